package dev.kiln.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs the whole test class once per mode of {@link RunModes#all()}, the mode in the display name. The class
 * takes the mode as a {@code @Parameter String runMode} field, or as the argument of a static
 * {@code @BeforeParameterizedClassInvocation} method that starts a shared server, and hands it to
 * {@link KilnTestServer.Builder#runMode}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ParameterizedClass(name = "run-mode {0}")
@MethodSource("dev.kiln.testing.RunModes#all")
public @interface EachRunMode {
}
