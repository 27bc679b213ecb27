package dev.kiln.run;

import java.time.Duration;

/**
 * Limits that apply to every script run.
 *
 * @param timeout        longest total run
 * @param idleTimeout    longest time without output on stdout
 * @param killGrace      SIGTERM to SIGKILL
 * @param stderrTimeout  how long to wait for the rest of stderr after the script's stdout closed
 * @param maxStderrLine  longest stderr line logged, in bytes; longer lines are cut and marked
 * @param limits         the resource limits of every script
 */
public record RunSettings(Duration timeout, Duration idleTimeout, Duration killGrace, Duration stderrTimeout,
                          int maxStderrLine, ScriptLimits limits) {
}
