package dev.kiln;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.Commands;
import dev.kiln.testing.Json;

/**
 * Checks docker/Dockerfile against the repository and the jar the build really produced. No Docker engine runs on
 * the project's machines, so the file is parsed here (instructions, stages, line continuations, JSON and shell
 * forms) and every claim it makes is compared with the real thing: paths it copies, the jar Maven wrote, the user,
 * the cache folder, and the {@code precompile} step, which is run for real against target/kiln.jar.
 *
 * <p>Runs under maven-failsafe after {@code package}, with the working directory at the repository root and the
 * system property {@code kiln.jar} naming target/kiln.jar.
 */
class DockerfileIT {

    /** Build contract: the default scripts folder, relative to the working directory. */
    private static final String DEFAULT_SCRIPTS = "webapp/WEB-INF/cgi-bin";
    private static final String DEFAULT_PORT = "8080";
    private static final int KILN_UID = 10001;

    private static Path repo;
    private static Path jar;
    private static List<Stage> stages;
    private static Stage build;
    private static Stage run;

    @BeforeAll
    static void parse() throws IOException {
        repo = Path.of("").toAbsolutePath().normalize();
        Path dockerfile = repo.resolve("docker/Dockerfile");
        assertThat(dockerfile).as("docker/Dockerfile (working directory must be the repository root)").isRegularFile();
        String jarProperty = System.getProperty("kiln.jar");
        assertThat(jarProperty).as("system property kiln.jar (set by maven-failsafe)").isNotBlank();
        jar = Path.of(jarProperty).toAbsolutePath().normalize();
        stages = Stage.parse(Files.readString(dockerfile, StandardCharsets.UTF_8));
        assertThat(stages).as("FROM stages").hasSizeGreaterThanOrEqualTo(2);
        build = stages.stream().filter(s -> "build".equalsIgnoreCase(s.name)).findFirst()
                .orElseThrow(() -> new AssertionError("no stage named 'build' (FROM ... AS build)"));
        run = stages.get(stages.size() - 1);
        assertThat(run).as("the last stage is the image that runs, not the build stage").isNotSameAs(build);
    }

    // ---------------------------------------------------------------------------------------------------------
    // build stage

    @Test
    void buildStageUsesMavenWithAJdkAtLeastThePomRelease() throws IOException {
        Matcher m = Pattern.compile("^(?:[\\w.-]+/)*maven:[\\w.-]*?(?:jdk|temurin|corretto|zulu|openjdk|sapmachine)"
                + "[\\w.]*?-(\\d+)(?:[.-][\\w.-]*)?$").matcher(build.image);
        assertThat(m.matches()).as("build stage image '%s' is a Maven image naming its JDK version", build.image)
                .isTrue();
        assertThat(Integer.parseInt(m.group(1))).as("JDK of the build image").isGreaterThanOrEqualTo(pomRelease());
    }

    @Test
    void everyCopyFromTheContextNamesAPathInTheRepository() {
        List<Instruction> copies = stages.stream().flatMap(s -> s.all("COPY", "ADD").stream())
                .filter(c -> !c.flags().containsKey("from")).collect(Collectors.toList());
        assertThat(build.all("COPY", "ADD")).as("COPY instructions in the build stage").isNotEmpty();
        for (Instruction c : copies) {
            List<String> words = c.copyWords();
            assertThat(words).as("line %d: COPY needs a source and a destination", c.line).hasSizeGreaterThanOrEqualTo(2);
            for (String src : words.subList(0, words.size() - 1)) {
                assertThat(src).as("line %d: sources are plain paths (no URLs, globs or ..)", c.line)
                        .doesNotContain("://").doesNotContain("*").doesNotContain("?").doesNotContain("..");
                Path p = repo.resolve(src).normalize();
                assertThat(p).as("line %d: COPY source '%s' in the repository", c.line, src).exists();
                if (Files.isDirectory(p)) {
                    // git keeps no empty folder: a fresh clone would not have it and the build would fail
                    assertThat(hasAnyFile(p)).as("line %d: COPY source folder '%s' holds at least one file "
                            + "(a fresh clone has no empty folders)", c.line, src).isTrue();
                }
            }
        }
    }

    @Test
    void buildStageMirrorsTheRepositoryUnderTheFolderWhereMavenRuns() {
        Instruction mvn = mavenPackage();
        String basedir = mvn.workdir;
        Map<String, Path> mapped = build.contextCopies(repo, Integer.MAX_VALUE);
        assertThat(mapped).as("build stage copies pom.xml").containsValue(repo.resolve("pom.xml"));
        for (Map.Entry<String, Path> e : mapped.entrySet()) {
            String expected = Img.join(basedir, repo.relativize(e.getValue()).toString().replace('\\', '/'));
            assertThat(e.getKey()).as("%s must land at the same relative place under %s, where mvn runs",
                    repo.relativize(e.getValue()), basedir).isEqualTo(expected);
        }
        for (Instruction c : build.all("COPY", "ADD")) {
            assertThat(c.index).as("line %d: COPY comes before the mvn build (line %d)", c.line, mvn.line)
                    .isLessThan(mvn.index);
        }
    }

    @Test
    void buildStageCopiesEverythingThePomBuildsFrom() throws IOException {
        Set<String> needed = new TreeSet<>(List.of("pom.xml", "src"));
        String pom = Files.readString(repo.resolve("pom.xml"));
        Matcher m = Pattern.compile("\\$\\{(?:project\\.)?basedir}/([\\w.-]+)").matcher(pom);
        while (m.find()) {
            needed.add(m.group(1)); // e.g. the WAR's ${basedir}/webapp
        }
        Set<String> copied = build.contextCopies(repo, Integer.MAX_VALUE).values().stream()
                .map(p -> repo.relativize(p).toString().replace('\\', '/')).collect(Collectors.toSet());
        for (String n : needed) {
            assertThat(copied.stream().anyMatch(c -> c.equals(n) || c.equals(".") || c.isEmpty()))
                    .as("build stage copies %s (the pom builds from it); copied: %s", n, copied).isTrue();
        }
    }

    @Test
    void runStageCopiesTheJarMavenReallyProduced() {
        assertThat(jar).as("kiln.jar produced by `mvn package`").isRegularFile();
        String producedRelative = repo.relativize(jar).toString().replace('\\', '/');
        assertThat(producedRelative).as("kiln.jar lies inside the repository").doesNotStartWith("..");
        Instruction mvn = mavenPackage();
        String expectedSource = Img.join(mvn.workdir, producedRelative);

        Instruction copy = jarCopy();
        // a COPY --from source is a path in the other stage's file system, from its root (not its WORKDIR)
        String source = Img.join("/", copy.copyWords().get(0));
        assertThat(source).as("line %d: COPY --from=build source is where `mvn package` in %s writes %s",
                copy.line, mvn.workdir, producedRelative).isEqualTo(expectedSource);
    }

    // ---------------------------------------------------------------------------------------------------------
    // run stage

    @Test
    void runStageInstallsAJreAndTheInterpretersOfTheBundledScripts() throws IOException {
        Instruction install = run.runs().stream()
                .filter(r -> r.simpleCommands().stream().anyMatch(DockerfileIT::isAptInstall)).findFirst()
                .orElseThrow(() -> new AssertionError("run stage has no `apt-get install`"));
        List<String> cmd = install.simpleCommands().stream().filter(DockerfileIT::isAptInstall).findFirst().get();
        Set<String> packages = new TreeSet<>();
        boolean afterInstall = false;
        for (String w : cmd) {
            if (afterInstall && !w.startsWith("-")) {
                packages.add(w.replaceAll("[=:].*$", ""));
            }
            afterInstall |= w.equals("install");
        }
        assertThat(cmd).as("line %d: apt-get install is non-interactive and lean", install.line)
                .contains("--no-install-recommends").containsAnyOf("-y", "--yes", "-qy", "-yq", "--assume-yes");
        assertThat(install.simpleCommands().stream().anyMatch(c -> c.size() >= 2 && c.get(0).equals("apt-get")
                && c.get(1).equals("update"))).as("line %d: apt-get update in the same RUN", install.line).isTrue();
        assertThat(install.args).as("line %d: apt lists are removed in the same layer", install.line)
                .contains("/var/lib/apt/lists");

        int jre = packages.stream().map(p -> Pattern.compile("^openjdk-(\\d+)-jre(?:-headless)?$").matcher(p))
                .filter(Matcher::matches).mapToInt(m -> Integer.parseInt(m.group(1))).max()
                .orElseThrow(() -> new AssertionError("no openjdk-N-jre[-headless] among " + packages));
        assertThat(jre).as("JRE version installed vs the pom's release").isGreaterThanOrEqualTo(pomRelease());

        Path scripts = repo.resolve(DEFAULT_SCRIPTS);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(scripts)) {
            files = walk.filter(Files::isRegularFile).collect(Collectors.toList());
        }
        for (Path f : files) {
            String first = firstLine(f);
            String interpreter;
            if (first.startsWith("#!")) {
                String[] words = first.substring(2).trim().split("\\s+");
                interpreter = basename(words[0]);
                if (interpreter.equals("env")) {
                    interpreter = Stream.of(words).skip(1).filter(w -> !w.startsWith("-")).findFirst().orElse("");
                }
            } else if (f.toString().endsWith(".py")) {
                interpreter = "python3";
            } else {
                continue; // not runnable (README.txt): Kiln refuses it
            }
            String pkg = interpreter.startsWith("python") ? "python3"
                    : interpreter.equals("perl") ? "perl"
                    : Set.of("sh", "dash", "bash").contains(interpreter) ? null // Essential in Debian
                    : "unknown interpreter " + interpreter;
            if (pkg != null) {
                assertThat(packages).as("%s needs %s in the image", repo.relativize(f), pkg).contains(pkg);
            }
        }
    }

    @Test
    void theCommandRunsTheJarTheCopyPutInPlace() {
        String jarInImage = jarInImage();
        List<String> argv = new ArrayList<>();
        Optional<Instruction> entrypoint = run.last("ENTRYPOINT");
        Optional<Instruction> cmd = run.last("CMD");
        assertThat(entrypoint.isPresent() || cmd.isPresent()).as("run stage has CMD or ENTRYPOINT").isTrue();
        for (Instruction i : Stream.of(entrypoint, cmd).flatMap(Optional::stream).collect(Collectors.toList())) {
            assertThat(i.args.trim()).as("line %d: %s in exec (JSON) form, so java is PID 1 and gets SIGTERM",
                    i.line, i.keyword).startsWith("[");
            argv.addAll(i.json());
        }
        assertThat(argv).as("command").isNotEmpty();
        if (basename(argv.get(0)).equals("tini")) {
            // tini as PID 1 reaps orphans a script's children leave; it must be installed and hand over with --
            assertThat(argv).as("tini hands over with --").contains("--");
            assertThat(run.runs().stream().anyMatch(r -> r.simpleCommands().stream()
                    .anyMatch(c -> isAptInstall(c) && c.contains("tini")))).as("tini is installed").isTrue();
            argv = new ArrayList<>(argv.subList(argv.indexOf("--") + 1, argv.size()));
        }
        assertThat(basename(argv.get(0))).as("command runs java").isEqualTo("java");
        int j = argv.indexOf("-jar");
        assertThat(j).as("command has -jar JAR: %s", argv).isBetween(0, argv.size() - 2);
        String cmdWorkdir = Stream.of(entrypoint, cmd).flatMap(Optional::stream).map(i -> i.workdir)
                .reduce((a, b) -> b).orElse("/");
        assertThat(Img.join(cmdWorkdir, argv.get(j + 1))).as("jar the command starts").isEqualTo(jarInImage);
    }

    @Test
    void runsAsTheNonRootUserKiln() {
        Instruction user = run.last("USER").orElseThrow(() -> new AssertionError("run stage has no USER"));
        String name = userName(user);
        assertThat(name).as("line %d: USER", user.line).isNotEmpty().isNotEqualTo("root").isNotEqualTo("0");
        // the cache step needs root, the precompile step runs as this user, so USER sits between them
        if (name.matches("\\d+")) {
            assertThat(Integer.parseInt(name)).as("numeric USER").isEqualTo(KILN_UID);
            return;
        }
        List<String> useradd = run.simpleCommandsBefore(user.index).stream()
                .filter(c -> !c.isEmpty() && (c.get(0).equals("useradd") || c.get(0).equals("adduser")))
                .filter(c -> c.get(c.size() - 1).equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no useradd/adduser creating user '" + name + "' before USER"));
        String uid = option(useradd, "-u", "--uid").orElseThrow(() -> new AssertionError(
                "useradd for " + name + " gives no fixed --uid: " + useradd));
        assertThat(Integer.parseInt(uid)).as("uid of %s", name).isEqualTo(KILN_UID);
    }

    @Test
    void theCacheFolderInKilnCacheIsCreatedOwnedByTheUserWithMode0700() {
        Map<String, String> env = run.env();
        String cache = env.get("KILN_CACHE");
        assertThat(cache).as("ENV KILN_CACHE in the run stage").isNotBlank().startsWith("/");
        Instruction user = run.last("USER").orElseThrow(() -> new AssertionError("run stage has no USER"));
        String owner = userName(user);
        boolean created = false;
        String chownedTo = null;
        String mode = null;
        for (List<String> c : run.simpleCommandsBefore(user.index)) {
            if (c.isEmpty()) {
                continue;
            }
            String prog = c.get(0);
            List<String> operands = operands(c, Set.of("-m", "--mode", "-o", "--owner", "-g", "--group"));
            if (prog.equals("install") && (c.contains("-d") || c.contains("--directory")) && operands.contains(cache)) {
                created = true;
                chownedTo = option(c, "-o", "--owner").orElse(chownedTo);
                mode = option(c, "-m", "--mode").orElse(mode);
            } else if (prog.equals("mkdir") && operands.contains(cache)) {
                created = true;
                mode = option(c, "-m", "--mode").orElse(mode);
            } else if (prog.equals("chown") && operands.size() >= 2 && operands.subList(1, operands.size()).contains(cache)) {
                chownedTo = operands.get(0).replaceAll("[:.].*$", "");
            } else if (prog.equals("chmod") && operands.size() >= 2 && operands.subList(1, operands.size()).contains(cache)) {
                mode = operands.get(0);
            }
        }
        assertThat(created).as("a RUN before USER (as root) creates %s (mkdir or install -d)", cache).isTrue();
        assertThat(chownedTo).as("owner given to %s before USER", cache).isEqualTo(owner);
        assertThat(mode).as("mode of %s", cache).isIn("700", "0700", "u=rwx,go=", "u=rwx,g=,o=");
    }

    @Test
    void listensOnAllInterfacesOnTheExposedPort() {
        Map<String, String> env = run.env();
        assertThat(env.get("KILN_BIND")).as("ENV KILN_BIND (a container must not listen on loopback only)")
                .isEqualTo("0.0.0.0");
        String port = env.getOrDefault("KILN_PORT", DEFAULT_PORT);
        Set<String> exposed = run.all("EXPOSE").stream().flatMap(e -> e.words().stream())
                .map(w -> w.replaceAll("/tcp$", "")).collect(Collectors.toSet());
        assertThat(exposed).as("EXPOSE").contains(port);
    }

    @Test
    void theBundledScriptsAndConfigAreWhereKilnLooksForThem() {
        Instruction precompile = precompileRun();
        Map<String, Path> mapped = run.contextCopies(repo, precompile.index);
        String scripts = scriptsFolderInImage(precompile);
        Path source = Img.map(mapped, scripts)
                .orElseThrow(() -> new AssertionError("scripts folder " + scripts + " is not filled by any COPY "
                        + "before the precompile step (line " + precompile.line + ")"));
        assertThat(source).as("repository folder behind %s", scripts).isEqualTo(repo.resolve(DEFAULT_SCRIPTS));
        Optional<Path> conf = Img.map(mapped, Img.join(precompile.workdir, "conf"));
        conf.ifPresent(p -> assertThat(p).as("conf/ in the image").isEqualTo(repo.resolve("conf")));
        for (Instruction c : run.all("COPY", "ADD")) {
            assertThat(c.flags().get("chown")).as("line %d: bundled files stay root-owned (read-only for the user)",
                    c.line).isNull();
        }
    }

    @Test
    void jarHelpListsThePrecompileSubcommand() throws Exception {
        assertThat(jar).as("kiln.jar").isRegularFile();
        Commands.Result help = java(repo, Map.of(), "-jar", jar.toString(), "--help");
        assertThat(help.output()).as("`java -jar kiln.jar --help` output").isNotBlank();
        // as a word of its own, not only the --precompile option or KILN_PRECOMPILE
        assertThat(Pattern.compile("(?<![-\\w])precompile(?![-\\w])").matcher(help.output()).find())
                .as("help text names the `precompile` subcommand:%n%s", help.output()).isTrue();
    }

    @Test
    void thePrecompileStepWorksWithTheRealJar(@TempDir Path tmp) throws Exception {
        Instruction precompile = precompileRun();
        Instruction user = run.last("USER").orElseThrow(() -> new AssertionError("run stage has no USER"));
        assertThat(precompile.user).as("line %d: precompile runs as the user that serves (USER %s), so the cache "
                + "belongs to it", precompile.line, user.args.trim()).isEqualTo(user.args.trim());
        Instruction cacheEnv = run.all("ENV").stream().filter(e -> e.envPairs().containsKey("KILN_CACHE"))
                .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no ENV KILN_CACHE"));
        List<String> cmd = precompileCommand(precompile);
        List<String> args = cmd.subList(cmd.indexOf("precompile") + 1, cmd.size());
        if (!args.contains("--cache")) {
            assertThat(cacheEnv.index).as("ENV KILN_CACHE (line %d) is set before precompile (line %d)",
                    cacheEnv.line, precompile.line).isLessThan(precompile.index);
        }
        assertThat(Img.join(precompile.workdir, cmd.get(cmd.indexOf("-jar") + 1))).as("jar precompile runs")
                .isEqualTo(jarInImage());

        // Run it as the image would, image paths mapped onto the repository and the cache onto a temp folder.
        Map<String, Path> mapped = run.contextCopies(repo, precompile.index);
        String cacheInImage = option(args, "--cache").orElse(run.envBefore(precompile.index).get("KILN_CACHE"));
        Path cache = Files.createDirectory(tmp.resolve("cache"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Map<String, String> env = new HashMap<>();
        for (Map.Entry<String, String> e : run.envBefore(precompile.index).entrySet()) {
            if (e.getKey().startsWith("KILN_")) {
                env.put(e.getKey(), hostValue(e.getValue(), cacheInImage, cache, mapped));
            }
        }
        env.put("KILN_PORT", "0"); // should the subcommand be ignored and a server start, it takes no fixed port
        List<String> javaArgs = new ArrayList<>(List.of("-jar", jar.toString(), "precompile"));
        for (String a : args) {
            javaArgs.add(hostValue(a, cacheInImage, cache, mapped));
        }
        String scripts = scriptsFolderInImage(precompile);
        Path scriptsOnHost = Img.map(mapped, scripts).orElseThrow();
        Set<Path> before = listTree(scriptsOnHost);

        Commands.Result r = java(repo, env, javaArgs.toArray(String[]::new));
        assertThat(r.exit()).as("`java -jar kiln.jar precompile %s` exit code; output:%n%s",
                String.join(" ", args), r.output()).isZero();
        assertThat(hasAnyFile(cache)).as("precompile wrote into the cache folder").isTrue();
        assertThat(listTree(scriptsOnHost)).as("precompile writes nothing into the scripts folder "
                + "(read-only for the user in the image)").isEqualTo(before);
    }

    // ---------------------------------------------------------------------------------------------------------
    // helpers over the parsed file

    private static Instruction mavenPackage() {
        return build.runs().stream()
                .filter(r -> r.simpleCommands().stream().anyMatch(c -> !c.isEmpty()
                        && (c.get(0).equals("mvn") || c.get(0).endsWith("/mvn")) && c.contains("package")))
                .findFirst().orElseThrow(() -> new AssertionError("build stage has no RUN mvn ... package"));
    }

    private static Instruction jarCopy() {
        List<Instruction> fromBuild = run.all("COPY").stream()
                .filter(c -> build.name.equalsIgnoreCase(c.flags().getOrDefault("from", "")))
                .filter(c -> c.copyWords().get(0).endsWith(".jar")).collect(Collectors.toList());
        assertThat(fromBuild).as("run stage has exactly one COPY --from=build of a .jar").hasSize(1);
        return fromBuild.get(0);
    }

    private static String jarInImage() {
        Instruction copy = jarCopy();
        List<String> w = copy.copyWords();
        String dest = w.get(w.size() - 1);
        String target = Img.join(copy.workdir, dest);
        return dest.endsWith("/") || dest.equals(".") ? Img.join(target, basename(w.get(0))) : target;
    }

    private static Instruction precompileRun() {
        return run.runs().stream().filter(r -> !precompileCommand(r).isEmpty()).findFirst()
                .orElseThrow(() -> new AssertionError("run stage has no RUN java -jar ... precompile"));
    }

    /** The simple command {@code java ... -jar JAR precompile ...} in a RUN, or an empty list. */
    private static List<String> precompileCommand(Instruction r) {
        for (List<String> c : r.simpleCommands()) {
            int j = c.indexOf("-jar");
            if (!c.isEmpty() && basename(c.get(0)).equals("java") && j >= 0 && j + 2 < c.size()
                    && c.get(j + 2).equals("precompile")) {
                return c;
            }
        }
        return List.of();
    }

    private static String scriptsFolderInImage(Instruction precompile) {
        List<String> cmd = precompileCommand(precompile);
        Optional<String> flag = option(cmd, "--scripts");
        String value = flag.orElse(run.envBefore(precompile.index).getOrDefault("KILN_SCRIPTS", DEFAULT_SCRIPTS));
        return Img.join(precompile.workdir, value);
    }

    private static String userName(Instruction user) {
        return user.words().get(0).replaceAll(":.*$", "");
    }

    private static boolean isAptInstall(List<String> c) {
        return !c.isEmpty() && (c.get(0).equals("apt-get") || c.get(0).equals("apt")) && c.contains("install");
    }

    /** Value of an option given as {@code -x V}, {@code --xx V} or {@code --xx=V}. */
    private static Optional<String> option(List<String> words, String... names) {
        for (int i = 0; i < words.size(); i++) {
            for (String n : names) {
                if (words.get(i).equals(n) && i + 1 < words.size()) {
                    return Optional.of(words.get(i + 1));
                }
                if (n.startsWith("--") && words.get(i).startsWith(n + "=")) {
                    return Optional.of(words.get(i).substring(n.length() + 1));
                }
            }
        }
        return Optional.empty();
    }

    /** Words of a command that are neither the program, options, nor values of the given value-taking options. */
    private static List<String> operands(List<String> cmd, Set<String> valued) {
        List<String> out = new ArrayList<>();
        for (int i = 1; i < cmd.size(); i++) {
            String w = cmd.get(i);
            if (valued.contains(w)) {
                i++;
            } else if (!w.startsWith("-")) {
                out.add(w);
            }
        }
        return out;
    }

    private static String hostValue(String value, String cacheInImage, Path cache, Map<String, Path> mapped) {
        if (value.equals(cacheInImage)) {
            return cache.toString();
        }
        if (value.startsWith("/")) {
            return Img.map(mapped, value).map(Path::toString).orElse(value);
        }
        return value;
    }

    private static int pomRelease() throws IOException {
        String pom = Files.readString(repo.resolve("pom.xml"));
        Matcher m = Pattern.compile("<maven\\.compiler\\.(?:release|target)>(\\d+)<").matcher(pom);
        assertThat(m.find()).as("pom.xml names maven.compiler.release").isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static String firstLine(Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            byte[] head = in.readNBytes(256);
            String s = new String(head, StandardCharsets.ISO_8859_1);
            int nl = s.indexOf('\n');
            return (nl >= 0 ? s.substring(0, nl) : s).replace("\r", "");
        }
    }

    private static String basename(String p) {
        String s = p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
        return s.substring(s.lastIndexOf('/') + 1);
    }

    private static boolean hasAnyFile(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.anyMatch(Files::isRegularFile);
        } catch (IOException e) {
            return false;
        }
    }

    private static Set<Path> listTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.collect(Collectors.toCollection(TreeSet::new));
        }
    }

    /** {@code java ARGS} in {@code dir}, with no KILN_* variable of this JVM's environment but {@code env}'s. */
    private static Commands.Result java(Path dir, Map<String, String> env, String... args) throws Exception {
        return Commands.java(args).in(dir).mergeStderr().env(e -> {
            e.keySet().removeIf(k -> k.startsWith("KILN_"));
            e.putAll(env);
        }).run();
    }

    // ---------------------------------------------------------------------------------------------------------
    // a small Dockerfile parser

    /** POSIX paths inside the image. */
    static final class Img {
        static String join(String base, String p) {
            String s = p.startsWith("/") ? p : base + "/" + p;
            List<String> parts = new ArrayList<>();
            for (String part : s.split("/")) {
                if (part.isEmpty() || part.equals(".")) {
                    continue;
                }
                if (part.equals("..")) {
                    if (!parts.isEmpty()) {
                        parts.remove(parts.size() - 1);
                    }
                } else {
                    parts.add(part);
                }
            }
            return "/" + String.join("/", parts);
        }

        /** The repository path behind an image path, through the longest COPY destination above it. */
        static Optional<Path> map(Map<String, Path> copies, String imagePath) {
            return copies.entrySet().stream()
                    .filter(e -> imagePath.equals(e.getKey()) || imagePath.startsWith(e.getKey().equals("/") ? "/"
                            : e.getKey() + "/"))
                    .max(Comparator.comparingInt(e -> e.getKey().length()))
                    .map(e -> e.getValue().resolve(imagePath.substring(e.getKey().length()).replaceFirst("^/", ""))
                            .normalize());
        }
    }

    static final class Instruction {
        final int line;
        final int index;
        final String keyword;
        final String args;
        final String workdir;
        final String user;

        Instruction(int line, int index, String keyword, String args, String workdir, String user) {
            this.line = line;
            this.index = index;
            this.keyword = keyword;
            this.args = args;
            this.workdir = workdir;
            this.user = user;
        }

        /** Leading --name=value flags (COPY --from=build, --chown=...). */
        Map<String, String> flags() {
            Map<String, String> flags = new LinkedHashMap<>();
            for (String w : Shell.words(args)) {
                if (!w.startsWith("--")) {
                    break;
                }
                int eq = w.indexOf('=');
                flags.put(eq < 0 ? w.substring(2) : w.substring(2, eq), eq < 0 ? "" : w.substring(eq + 1));
            }
            return flags;
        }

        /** Arguments after the flags, JSON or whitespace form. */
        List<String> copyWords() {
            String rest = args.trim();
            while (rest.startsWith("--")) {
                int sp = rest.indexOf(' ');
                rest = sp < 0 ? "" : rest.substring(sp).trim();
            }
            return rest.startsWith("[") ? Json.stringList(rest) : Shell.words(rest);
        }

        List<String> words() {
            return args.trim().startsWith("[") ? json() : Shell.words(args);
        }

        List<String> json() {
            return Json.stringList(args.trim());
        }

        /** RUN: its simple commands, each a list of words (shell form split on && || ; |). */
        List<List<String>> simpleCommands() {
            if (args.trim().startsWith("[")) {
                return List.of(json());
            }
            return Shell.commands(args);
        }

        /** ENV: name/value pairs, both the k=v and the legacy `ENV k v` forms. */
        Map<String, String> envPairs() {
            Map<String, String> out = new LinkedHashMap<>();
            List<String> w = Shell.words(args);
            if (!w.isEmpty() && !w.get(0).contains("=")) {
                out.put(w.get(0), args.trim().substring(w.get(0).length()).trim());
                return out;
            }
            for (String pair : w) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    out.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
            return out;
        }
    }

    static final class Stage {
        final String image;
        final String name;
        final List<Instruction> instructions = new ArrayList<>();

        Stage(String image, String name) {
            this.image = image;
            this.name = name;
        }

        List<Instruction> all(String... keywords) {
            Set<String> k = Set.of(keywords);
            return instructions.stream().filter(i -> k.contains(i.keyword)).collect(Collectors.toList());
        }

        Optional<Instruction> last(String keyword) {
            return all(keyword).stream().reduce((a, b) -> b);
        }

        List<Instruction> runs() {
            return all("RUN");
        }

        List<List<String>> simpleCommandsBefore(int index) {
            return runs().stream().filter(r -> r.index < index).flatMap(r -> r.simpleCommands().stream())
                    .collect(Collectors.toList());
        }

        Map<String, String> env() {
            return envBefore(Integer.MAX_VALUE);
        }

        Map<String, String> envBefore(int index) {
            Map<String, String> env = new LinkedHashMap<>();
            all("ENV").stream().filter(e -> e.index < index).forEach(e -> env.putAll(e.envPairs()));
            return env;
        }

        /** Image path to repository path, for every COPY/ADD from the build context before {@code index}. */
        Map<String, Path> contextCopies(Path repo, int index) {
            Map<String, Path> out = new LinkedHashMap<>();
            for (Instruction c : all("COPY", "ADD")) {
                if (c.index >= index || c.flags().containsKey("from")) {
                    continue;
                }
                List<String> w = c.copyWords();
                String dest = w.get(w.size() - 1);
                String target = Img.join(c.workdir, dest);
                for (String src : w.subList(0, w.size() - 1)) {
                    Path p = repo.resolve(src).normalize();
                    boolean intoFolder = !Files.isDirectory(p) && (dest.endsWith("/") || dest.equals(".")
                            || w.size() > 2);
                    out.put(intoFolder ? Img.join(target, basename(src)) : target, p);
                }
            }
            return out;
        }

        static List<Stage> parse(String text) {
            List<Stage> stages = new ArrayList<>();
            String[] lines = text.split("\r?\n", -1);
            StringBuilder current = null;
            int startLine = 0;
            int index = 0;
            for (int n = 0; n < lines.length; n++) {
                String line = lines[n];
                String trimmed = line.trim();
                if (trimmed.startsWith("#") || trimmed.isEmpty()) {
                    continue; // comments and blank lines, also inside continuations
                }
                if (current == null) {
                    current = new StringBuilder();
                    startLine = n + 1;
                }
                String stripped = line.replaceAll("\\s+$", "");
                if (stripped.endsWith("\\")) {
                    current.append(stripped, 0, stripped.length() - 1).append(' ');
                    continue;
                }
                current.append(stripped);
                add(stages, startLine, index++, current.toString().trim());
                current = null;
            }
            if (current != null) {
                add(stages, startLine, index, current.toString().trim());
            }
            return stages;
        }

        private static void add(List<Stage> stages, int line, int index, String instruction) {
            String[] kv = instruction.split("\\s+", 2);
            String keyword = kv[0].toUpperCase(Locale.ROOT);
            String args = kv.length > 1 ? kv[1] : "";
            if (keyword.equals("FROM")) {
                List<String> w = Shell.words(args).stream().filter(x -> !x.startsWith("--"))
                        .collect(Collectors.toList());
                String name = w.size() >= 3 && w.get(1).equalsIgnoreCase("AS") ? w.get(2) : "";
                stages.add(new Stage(w.get(0), name));
                return;
            }
            if (stages.isEmpty()) {
                if (keyword.equals("ARG")) {
                    return; // ARG before the first FROM
                }
                throw new AssertionError("line " + line + ": " + keyword + " before any FROM");
            }
            Stage s = stages.get(stages.size() - 1);
            Instruction previous = s.instructions.isEmpty() ? null : s.instructions.get(s.instructions.size() - 1);
            String workdir = previous == null ? "/" : previous.workdir;
            String user = previous == null ? "root" : previous.user;
            if (keyword.equals("WORKDIR")) {
                workdir = Img.join(workdir, args.trim());
            } else if (keyword.equals("USER")) {
                user = args.trim();
            }
            s.instructions.add(new Instruction(line, index, keyword, args, workdir, user));
        }
    }

    /** Just enough of sh: quotes, backslashes, and the operators that separate simple commands. */
    static final class Shell {
        static List<String> words(String s) {
            List<List<String>> cmds = split(s, false);
            return cmds.isEmpty() ? List.of() : cmds.get(0);
        }

        static List<List<String>> commands(String s) {
            return split(s, true);
        }

        private static List<List<String>> split(String s, boolean operators) {
            List<List<String>> out = new ArrayList<>();
            List<String> cmd = new ArrayList<>();
            StringBuilder word = null;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\'') {
                    int end = s.indexOf('\'', i + 1);
                    end = end < 0 ? s.length() : end;
                    word = word == null ? new StringBuilder() : word;
                    word.append(s, i + 1, end);
                    i = end;
                } else if (c == '"') {
                    word = word == null ? new StringBuilder() : word;
                    for (i++; i < s.length() && s.charAt(i) != '"'; i++) {
                        if (s.charAt(i) == '\\' && i + 1 < s.length() && "\"\\$`".indexOf(s.charAt(i + 1)) >= 0) {
                            i++;
                        }
                        word.append(s.charAt(i));
                    }
                } else if (c == '\\' && i + 1 < s.length()) {
                    word = word == null ? new StringBuilder() : word;
                    word.append(s.charAt(++i));
                } else if (Character.isWhitespace(c)) {
                    if (word != null) {
                        cmd.add(word.toString());
                        word = null;
                    }
                } else if (operators && (c == ';' || c == '&' || c == '|' || c == '(' || c == ')')) {
                    if (word != null) {
                        cmd.add(word.toString());
                        word = null;
                    }
                    if (!cmd.isEmpty()) {
                        out.add(cmd);
                    }
                    cmd = new ArrayList<>();
                } else {
                    word = word == null ? new StringBuilder() : word;
                    word.append(c);
                }
            }
            if (word != null) {
                cmd.add(word.toString());
            }
            if (!cmd.isEmpty()) {
                out.add(cmd);
            }
            return out;
        }
    }

}
