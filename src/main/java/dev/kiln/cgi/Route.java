package dev.kiln.cgi;

/**
 * A URL prefix whose files run as CGI scripts, with the resolver and planner of its folder: each folder has its
 * own library files and writable-script checks.
 *
 * @param prefix the servlet path that selects it ({@code /cgi-bin}, or a script-alias)
 */
public record Route(String prefix, ScriptResolver resolver, CommandPlanner planner) {
}
