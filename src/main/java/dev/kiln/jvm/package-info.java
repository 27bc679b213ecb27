/**
 * Java scripts: {@code .java} files and files whose {@code #!} line runs {@code java --source N}. Each JDK is
 * found once; each script is compiled once by its JDK's own javac into a jar in the shared cache, and gets an
 * AOT cache (or a dynamic CDS archive) built in the background after its first good run.
 * May import cgi (to be a ScriptKind), run, cache and config; never web, server, python or forkserver.
 */
package dev.kiln.jvm;
