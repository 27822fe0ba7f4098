package io.qat4j.training.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/** Log levels and the per-run log file (logback is configured by {@code logback.xml}). */
public final class Logging {
    private static FileAppender<ILoggingEvent> runFile;

    private Logging() {
    }

    /** {@code --verbose}: DEBUG for qat4j, INFO for DL4J, ND4J and JavaCPP. */
    public static void verbose() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.getLogger("io.qat4j").setLevel(Level.DEBUG);
        for (String name : new String[]{"org.deeplearning4j", "org.nd4j", "org.bytedeco", "org.datavec"}) {
            ctx.getLogger(name).setLevel(Level.INFO);
        }
    }

    /** Also appends every log line of this process to {@code file} (a run's {@code train.log}). */
    public static synchronized void alsoTo(Path file) {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        if (runFile != null) {
            root.detachAppender(runFile);
            runFile.stop();
        }
        PatternLayoutEncoder enc = new PatternLayoutEncoder();
        enc.setContext(ctx);
        enc.setPattern("%d{yyyy-MM-dd HH:mm:ss} %-5level %logger{24} - %msg%n");
        enc.start();
        FileAppender<ILoggingEvent> app = new FileAppender<>();
        app.setContext(ctx);
        app.setName("RUN_FILE");
        app.setFile(file.toString());
        app.setAppend(true);
        app.setEncoder(enc);
        app.start();
        root.addAppender(app);
        runFile = app;
    }
}
