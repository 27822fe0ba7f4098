package io.qat4j.training.config;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads YAML files into {@link ConfigNode} trees, follows {@code extends:} chains and applies {@code --set} overrides
 * (package-private).
 */
final class YamlLoader {

    static final String EXTENDS = "extends";
    static final String NAME = "name";

    private YamlLoader() {
    }

    /** Loads {@code file} and everything it extends, deep-merged; the result has no {@code extends} key. */
    static ConfigNode load(Path file) {
        return loadWithParents(file, new ArrayList<>(), new ArrayList<>());
    }

    private static ConfigNode loadWithParents(Path file, List<Path> chain, List<String> chainNames) {
        chain.add(file.toAbsolutePath().normalize());
        chainNames.add(file.toString());
        ConfigNode root = parseFile(file);
        ConfigNode.Entry ext = root.entries.remove(EXTENDS);
        if (ext == null || ext.value().isNull()) {
            return root;
        }
        ConfigNode value = ext.value();
        if (!(value.scalar instanceof String parentName) || parentName.isBlank()) {
            throw new ConfigException(new ConfigProblem(value.source, value.line, EXTENDS, value.render(),
                    "has the wrong type (" + value.typeName()
                            + "): allowed a path to another YAML file, relative to this one"));
        }
        Path parent = file.resolveSibling(parentName).normalize();
        int seen = chain.indexOf(parent.toAbsolutePath().normalize());
        if (seen >= 0) {
            List<String> cycle = new ArrayList<>(chainNames.subList(seen, chainNames.size()));
            cycle.add(parent.toString());
            throw new ConfigException(new ConfigProblem(value.source, value.line, EXTENDS, value.render(),
                    "creates a cycle: " + String.join(" -> ", cycle)));
        }
        if (!Files.isRegularFile(parent)) {
            throw new ConfigException(new ConfigProblem(value.source, value.line, EXTENDS, value.render(),
                    "refers to a file that does not exist: " + parent
                            + " (allowed a path to another YAML file, relative to this one)"));
        }
        ConfigNode base = loadWithParents(parent, chain, chainNames);
        // The name identifies one experiment; it is never inherited.
        base.entries.remove(NAME);
        return merge(base, root);
    }

    /** Deep-merges two trees: maps merge key by key (child wins), anything else is replaced by {@code child}. */
    static ConfigNode merge(ConfigNode base, ConfigNode child) {
        if (base.kind != ConfigNode.Kind.MAP || child.kind != ConfigNode.Kind.MAP) {
            return child;
        }
        ConfigNode out = ConfigNode.map(child.source, child.line);
        out.entries.putAll(base.entries);
        for (Map.Entry<String, ConfigNode.Entry> e : child.entries.entrySet()) {
            ConfigNode.Entry old = out.entries.get(e.getKey());
            ConfigNode.Entry mine = e.getValue();
            if (old != null) {
                out.entries.put(e.getKey(), new ConfigNode.Entry(mine.keyLine(), merge(old.value(), mine.value())));
            } else {
                out.entries.put(e.getKey(), mine);
            }
        }
        return out;
    }

    /** Parses one file (no {@code extends} handling); the root must be a map, an empty file is an empty map. */
    static ConfigNode parseFile(Path file) {
        String source = file.toString();
        Node node;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            node = new Yaml().compose(reader);
        } catch (NoSuchFileException e) {
            throw new ConfigException(new ConfigProblem(source, 0, "", null, "file not found"));
        } catch (IOException e) {
            throw new ConfigException(new ConfigProblem(source, 0, "", null, "cannot read file: " + e));
        } catch (MarkedYAMLException e) {
            throw new ConfigException(syntaxProblem(source, e, true));
        } catch (YAMLException e) {
            throw new ConfigException(new ConfigProblem(source, 0, "", null, "YAML syntax error: " + e.getMessage()));
        }
        if (node == null) {
            return ConfigNode.map(source, 0);
        }
        List<ConfigProblem> problems = new ArrayList<>();
        ConfigNode root = convert(node, source, true, problems);
        if (root.kind != ConfigNode.Kind.MAP) {
            problems.add(new ConfigProblem(source, root.line, "", null,
                    "the file must contain a YAML map of keys such as dataset:, model:, training:, but it contains a "
                            + root.typeName()));
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        // The root map stands for the whole file; problems about it (e.g. a missing key) carry no line.
        ConfigNode fileRoot = ConfigNode.map(source, 0);
        fileRoot.entries.putAll(root.entries);
        return fileRoot;
    }

    private static ConfigProblem syntaxProblem(String source, MarkedYAMLException e, boolean withLine) {
        Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
        int line = withLine && mark != null ? mark.getLine() + 1 : 0;
        String what = e.getProblem() != null ? e.getProblem() : e.getMessage();
        if (e.getContext() != null) {
            what = e.getContext() + ", " + what;
        }
        return new ConfigProblem(source, line, "", null, "YAML syntax error: " + what.replace('\n', ' ').strip());
    }

    /** Converts a SnakeYAML node tree; {@code withLines=false} gives every node line 0 (command-line values). */
    private static ConfigNode convert(Node node, String source, boolean withLines, List<ConfigProblem> problems) {
        return convert(node, source, withLines, problems, withLines ? node.getStartMark().getLine() + 1 : 0);
    }

    private static ConfigNode convert(Node node, String source, boolean withLines, List<ConfigProblem> problems,
                                      int line) {
        if (node instanceof MappingNode mapping) {
            ConfigNode out = ConfigNode.map(source, line);
            for (NodeTuple tuple : mapping.getValue()) {
                Node keyNode = tuple.getKeyNode();
                int keyLine = withLines ? keyNode.getStartMark().getLine() + 1 : 0;
                if (!(keyNode instanceof ScalarNode scalarKey)) {
                    problems.add(new ConfigProblem(source, keyLine, "", null,
                            "a key must be a plain name, not a " + (keyNode instanceof MappingNode ? "map" : "list")));
                    continue;
                }
                String key = scalarKey.getValue();
                ConfigNode.Entry first = out.entries.get(key);
                if (first != null) {
                    problems.add(new ConfigProblem(source, keyLine, key, null,
                            "is written twice in the same map (first on line " + first.keyLine() + ")"));
                    continue;
                }
                // A nested map or list is located at its key: "dataset:" is where the dataset section is written.
                Node valueNode = tuple.getValueNode();
                int valueLine = valueNode instanceof ScalarNode || !withLines
                        ? (withLines ? valueNode.getStartMark().getLine() + 1 : 0) : keyLine;
                out.entries.put(key, new ConfigNode.Entry(keyLine, convert(valueNode, source, withLines, problems,
                        valueLine)));
            }
            return out;
        }
        if (node instanceof SequenceNode sequence) {
            ConfigNode out = ConfigNode.list(source, line);
            for (Node item : sequence.getValue()) {
                out.items.add(convert(item, source, withLines, problems));
            }
            return out;
        }
        ScalarNode scalar = (ScalarNode) node;
        Object value;
        try {
            value = new ScalarConstructor().construct(scalar);
        } catch (YAMLException e) {
            value = scalar.getValue();
        }
        return ConfigNode.scalar(source, line, value, scalar.getValue());
    }

    /**
     * Applies one override {@code path=value} to {@code root}, creating intermediate maps as needed. Whether the path
     * exists in the schema is checked later by validation, which reports it with the source {@code --set path=value}.
     */
    static void applyOverride(ConfigNode root, String override, List<ConfigProblem> problems) {
        String source = "--set " + override;
        int eq = override.indexOf('=');
        if (eq <= 0) {
            problems.add(new ConfigProblem(source, 0, "", null,
                    "is not of the form path=value (e.g. --set training.epochs=3)"));
            return;
        }
        String path = override.substring(0, eq).strip();
        String text = override.substring(eq + 1);
        String[] keys = path.split("\\.", -1);
        for (String key : keys) {
            if (key.isBlank()) {
                problems.add(new ConfigProblem(source, 0, path, null,
                        "is not a valid key path: allowed dot-separated keys such as training.optimizer.lr"));
                return;
            }
        }
        if (keys[0].equals(EXTENDS)) {
            problems.add(new ConfigProblem(source, 0, path, text,
                    "cannot be set on the command line: extends is only allowed in a config file"));
            return;
        }
        ConfigNode value;
        try {
            Node node = new Yaml().compose(new StringReader(text));
            value = node == null ? ConfigNode.scalar(source, 0, null, "") : convert(node, source, false, problems);
        } catch (MarkedYAMLException e) {
            problems.add(new ConfigProblem(source, 0, path, text, "is not a valid YAML value: "
                    + syntaxProblem(source, e, false).message().replace("YAML syntax error: ", "")));
            return;
        } catch (YAMLException e) {
            problems.add(new ConfigProblem(source, 0, path, text, "is not a valid YAML value: " + e.getMessage()));
            return;
        }
        ConfigNode current = root;
        for (int i = 0; i < keys.length - 1; i++) {
            ConfigNode.Entry entry = current.entries.get(keys[i]);
            if (entry == null || entry.value().isNull()) {
                ConfigNode created = ConfigNode.map(source, 0);
                current.entries.put(keys[i], new ConfigNode.Entry(0, created));
                current = created;
            } else if (entry.value().kind == ConfigNode.Kind.MAP) {
                current = entry.value();
            } else {
                String prefix = String.join(".", List.of(keys).subList(0, i + 1));
                problems.add(new ConfigProblem(source, 0, prefix, entry.value().render(),
                        "is not a map, so " + path + " cannot be set"));
                return;
            }
        }
        current.entries.put(keys[keys.length - 1], new ConfigNode.Entry(0, value));
    }

    /** Builds plain Java values (String, Integer, Long, Double, Boolean, null, ...) from scalar nodes. */
    private static final class ScalarConstructor extends SafeConstructor {
        ScalarConstructor() {
            super(new LoaderOptions());
        }

        Object construct(ScalarNode node) {
            return constructObject(node);
        }
    }
}
