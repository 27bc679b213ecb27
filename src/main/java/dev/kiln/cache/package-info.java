/**
 * The shared bytecode cache as a folder: its health and diagnostics with their fixes, pruning, counters.
 * It never runs anything: the Python side writes the files, this package watches and reports.
 * Imports no other dev.kiln package.
 */
package dev.kiln.cache;
