/**
 * Kiln's options: one enum names each; values come from flags, KILN_* variables, a file, init-params.
 * Values are parsed and validated once, at start, with one-line errors.
 * Imports no other dev.kiln package.
 */
package dev.kiln.config;
