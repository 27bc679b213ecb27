package dev.kiln.web;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives test methods the one {@link TomcatServer} of this run: started by the first class that asks, stopped
 * when the run ends (the root store closes it), so the Tomcat test classes share one start-up.
 */
final class SharedTomcat implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SharedTomcat.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TomcatServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(TomcatServer.class, k -> {
            try {
                return TomcatServer.start();
            } catch (Exception e) {
                throw new ParameterResolutionException("Tomcat did not start: " + e.getMessage(), e);
            }
        }, TomcatServer.class);
    }
}
