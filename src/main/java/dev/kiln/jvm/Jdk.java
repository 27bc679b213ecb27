package dev.kiln.jvm;

import java.nio.file.Path;

/**
 * One JDK, found once: the real binaries, never a symbolic link or wrapper, so no request pays for resolving one.
 *
 * @param command what the script or the configuration named, e.g. {@code java} or {@code /usr/bin/java}
 * @param java    its real {@code bin/java}
 * @param javac   the {@code bin/javac} beside it, the compiler of its scripts
 * @param version {@code JAVA_VERSION} of its {@code release} file, e.g. 25.0.3
 * @param feature the feature release, e.g. 25: the default {@code --release} of its scripts
 */
public record Jdk(String command, Path java, Path javac, String version, int feature) {
    /** What start-up cache this JDK can build: JDK 24+ an AOT cache, 13 to 23 a dynamic CDS archive. */
    public AotKind aotKind() {
        if (feature >= 25) {
            return AotKind.AOT_CACHE;
        }
        if (feature == 24) {
            return AotKind.AOT_TWO_STEP;
        }
        return feature >= 13 ? AotKind.DYNAMIC_CDS : AotKind.NONE;
    }

    /** The kinds of start-up cache, by the JDK feature that brought them. */
    public enum AotKind {
        /** JEP 514 (25): {@code -XX:AOTCacheOutput} trains and creates in one run. */
        AOT_CACHE("aot"),
        /** JEP 483 (24): {@code -XX:AOTMode=record}, then {@code -XX:AOTMode=create}. */
        AOT_TWO_STEP("aot"),
        /** JEP 350 (13): {@code -XX:ArchiveClassesAtExit}. */
        DYNAMIC_CDS("jsa"),
        NONE("");

        private final String extension;

        AotKind(String extension) {
            this.extension = extension;
        }

        /** The cache file's extension beside the jar. */
        public String extension() {
            return extension;
        }

        /** The option a run uses the cache file with. */
        public String useOption(Path file) {
            return (this == DYNAMIC_CDS ? "-XX:SharedArchiveFile=" : "-XX:AOTCache=") + file;
        }
    }
}
