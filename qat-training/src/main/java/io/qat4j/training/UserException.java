package io.qat4j.training;

/**
 * A problem the user can fix (bad argument, missing file, unfinished run). The command line prints
 * the message as one paragraph, without a stack trace, and exits with code 2.
 */
public class UserException extends RuntimeException {
    public UserException(String message) {
        super(message);
    }

    public UserException(String message, Throwable cause) {
        super(message, cause);
    }
}
