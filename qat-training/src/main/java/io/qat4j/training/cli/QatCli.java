package io.qat4j.training.cli;

import io.qat4j.training.UserException;
import io.qat4j.training.config.ConfigException;
import io.qat4j.training.data.DataException;
import io.qat4j.training.run.DivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/**
 * The {@code qat} command line. Exit codes: 0 success, 1 internal error (with stack trace),
 * 2 user error (bad arguments, config, data; one paragraph, no stack trace), 3 training diverged.
 */
@Command(name = "qat", mixinStandardHelpOptions = true, version = "qat4j 0.1.0",
        description = "Quantization-aware and fixed-point training for Deeplearning4j.",
        subcommands = {TrainCommand.class, EvalCommand.class, SummaryCommand.class, QuantizeCommand.class, ReportCommand.class,
                ExportCommand.class, SimulateCommand.class,
                CommandLine.HelpCommand.class})
public final class QatCli {

    /** Exit code of errors the user can fix. */
    public static final int USER_ERROR = 2;
    /** Exit code when training diverged (NaN / infinite loss). */
    public static final int DIVERGED = 3;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "More log output: DEBUG for qat4j, INFO for DL4J / ND4J.")
    void setVerbose(boolean verbose) {
        if (verbose) {
            Logging.verbose();
        }
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (tests call this directly). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new QatCli());
        cl.setExecutionExceptionHandler(QatCli::handle);
        return cl.execute(args);
    }

    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (e instanceof ConfigException || e instanceof DataException || e instanceof UserException) {
            err.println("error: " + e.getMessage());
            err.flush();
            return USER_ERROR;
        }
        if (e instanceof DivergedException) {
            err.println("error: " + e.getMessage());
            err.flush();
            return DIVERGED;
        }
        err.println("internal error (please report it with the command that caused it):");
        e.printStackTrace(err);
        err.flush();
        return 1;
    }
}
