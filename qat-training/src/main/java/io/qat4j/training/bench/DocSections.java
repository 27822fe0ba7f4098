package io.qat4j.training.bench;

import io.qat4j.training.run.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Keeps several generated sections in one Markdown file: each lives between {@code <!-- begin KEY -->} and
 * {@code <!-- end KEY -->} and is replaced in place (or appended), so benchmarks that write the same file do not
 * erase each other's results.
 */
final class DocSections {
    private DocSections() {
    }

    /** Replaces (or appends) section {@code key} of {@code doc}. */
    static String replace(String doc, String key, String body) {
        String begin = "<!-- begin " + key + " -->";
        String end = "<!-- end " + key + " -->";
        String section = begin + "\n" + body.strip() + "\n" + end;
        int b = doc.indexOf(begin);
        int e = doc.indexOf(end);
        if (b >= 0 && e > b) {
            return doc.substring(0, b) + section + doc.substring(e + end.length());
        }
        return doc.stripTrailing() + "\n\n" + section + "\n";
    }

    /** Rewrites section {@code key} of the file atomically; a new file starts with {@code title}. */
    static void write(Path file, String title, String key, String body) {
        try {
            String doc = Files.isRegularFile(file) ? Files.readString(file) : title + "\n";
            AtomicFiles.writeString(file, replace(doc, key, body));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
