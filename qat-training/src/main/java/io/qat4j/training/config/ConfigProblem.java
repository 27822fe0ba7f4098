package io.qat4j.training.config;

/**
 * One problem found in an experiment config: where it was written, which key, the bad value and what is allowed.
 *
 * @param source  the file the value was written in, or {@code --set path=value} for a command-line override
 * @param line    1-based line number in {@code source}, or 0 when there is no meaningful line
 * @param path    dotted key path such as {@code training.optimizer.lr} (empty for whole-file problems)
 * @param value   the offending value as written, or {@code null} when there is none (missing or unknown key)
 * @param message what is wrong and what is allowed, e.g. {@code is out of range: allowed a number > 0}
 */
public record ConfigProblem(String source, int line, String path, String value, String message) {

    /** Renders the problem as one readable line, e.g. {@code x.yaml:12: training.optimizer.lr = -0.1 is out of range: allowed a number > 0}. */
    public String render() {
        StringBuilder sb = new StringBuilder(source);
        if (line > 0) {
            sb.append(':').append(line);
        }
        sb.append(": ");
        if (path != null && !path.isEmpty()) {
            sb.append(path);
            if (value != null) {
                sb.append(" = ").append(value);
            }
            sb.append(' ');
        }
        sb.append(message);
        return sb.toString();
    }

    @Override
    public String toString() {
        return render();
    }
}
