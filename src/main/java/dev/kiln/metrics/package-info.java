/**
 * What operators measure: per request the script, status and latency (Prometheus metrics through the Prometheus
 * Java client, and the last hour and per-script percentiles for the status page), with script labels bounded.
 * Kiln's other counters reach it as suppliers, so it knows none of the packages that own them.
 * Imports no other dev.kiln package.
 */
package dev.kiln.metrics;
