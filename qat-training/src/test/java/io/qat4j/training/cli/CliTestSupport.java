package io.qat4j.training.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Runs the command line in-process and captures what it prints. */
final class CliTestSupport {
    /** The repository root (tests run in the module folder). */
    static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    static final Path DATA = REPO.resolve("data");

    record Outcome(int exitCode, String out, String err) {
    }

    private CliTestSupport() {
    }

    static {
        // Lets the runner fetch MNIST with scripts/fetch-data when the data folder lacks it.
        System.setProperty("qat.home", REPO.toString());
    }

    static synchronized Outcome run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = QatCli.run(args);
            return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
