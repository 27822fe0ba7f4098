package io.qat4j.training.config;

import java.util.List;

/** Thrown when an experiment config cannot be loaded; carries every problem found, rendered one per line by {@link #getMessage()}. */
public class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final List<ConfigProblem> problems;

    /** Creates an exception for the given (non-empty) list of problems. */
    public ConfigException(List<ConfigProblem> problems) {
        super(render(problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** Creates an exception for a single problem. */
    public ConfigException(ConfigProblem problem) {
        this(List.of(problem));
    }

    /** All problems, in the order they were found. */
    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String render(List<ConfigProblem> problems) {
        int n = problems.size();
        StringBuilder sb = new StringBuilder("Invalid experiment config (")
                .append(n).append(n == 1 ? " problem):" : " problems):");
        for (ConfigProblem p : problems) {
            sb.append(System.lineSeparator()).append("  ").append(p.render());
        }
        return sb.toString();
    }
}
