package dev.kiln;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.jvm.Jdk;
import dev.kiln.python.PythonInterpreter;

/** The lines Kiln logs once it is up: where it serves, its folders, each interpreter found. */
final class StartupLog {
    private static final Logger LOG = LoggerFactory.getLogger("kiln");

    private StartupLog() {
    }

    static void log(Kiln kiln, String url) {
        if (url != null) {
            LOG.info("Kiln {} serving {} (scripts at {}cgi-bin/, status at {}kiln/)", Kiln.VERSION, url, url, url);
        }
        LOG.info("scripts folder: {}", kiln.folders().primary());
        kiln.folders().folders().stream().skip(1).forEach(f -> LOG.info("scripts folder of script-alias {}/: {}",
                f.prefix(), f.root()));
        LOG.info("cache folder: {} ({})", kiln.cache().root(), kiln.cache().mode().word());
        String fileNames = System.getProperty("sun.jnu.encoding", "UTF-8");
        if (!fileNames.equalsIgnoreCase("UTF-8")) {
            LOG.warn("Kiln runs in a locale whose encoding is {}: scripts still get every byte of their "
                    + "environment, but files whose names are not ASCII cannot be found; fix: start Kiln with "
                    + "LANG=C.UTF-8", fileNames);
        }
        List<PythonInterpreter> found = List.copyOf(kiln.interpreters().known());
        if (found.isEmpty()) {
            LOG.warn("no Python interpreter found; Python scripts will fail; fix: install python3 or set --python");
        }
        // several names (python3, /usr/bin/python3, env python3) often lead to one binary: one line each
        Map<Path, List<String>> names = new LinkedHashMap<>();
        Map<Path, PythonInterpreter> byBinary = new LinkedHashMap<>();
        for (PythonInterpreter p : found) {
            names.computeIfAbsent(p.executable(), k -> new ArrayList<>()).add(p.command());
            byBinary.putIfAbsent(p.executable(), p);
        }
        for (PythonInterpreter p : byBinary.values()) {
            LOG.info("python {} version {} cache tag {} (as {}){}", p.executable(), p.version(),
                    p.cacheTag().isEmpty() ? "(none)" : p.cacheTag(), String.join(", ", names.get(p.executable())),
                    p.cacheable() ? "" : ", not cached: needs CPython 3.8+");
        }
        for (Jdk j : kiln.java().jdks().known()) {
            LOG.info("java {} version {} (as {}), start-up cache: {}", j.java(), j.version(), j.command(),
                    j.aotKind() == Jdk.AotKind.NONE ? "none (needs JDK 13+)" : j.aotKind().extension());
        }
    }
}
