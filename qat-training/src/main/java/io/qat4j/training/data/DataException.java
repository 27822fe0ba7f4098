package io.qat4j.training.data;

/**
 * A user-facing data error: a data file is missing, unreadable, malformed or inconsistent.
 *
 * <p>The command line prints {@link #getMessage()} and exits with status 2, so every message is a
 * single paragraph that names the file, what was expected and what was found.
 */
public class DataException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Creates a data error with the given user-facing message. */
    public DataException(String msg) {
        super(msg);
    }

    /** Creates a data error with the given user-facing message and the underlying cause. */
    public DataException(String msg, Throwable cause) {
        super(msg, cause);
    }
}
