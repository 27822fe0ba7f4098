package io.qat4j.training.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad configs: each must produce a precise problem with file, line, key path, bad value and what is allowed. */
class ExperimentConfigErrorsTest {

    private static final String VALID_HEAD = """
            dataset:
              name: mnist
            model:
              name: lenet5
            """;

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        return file;
    }

    private static ConfigException fails(Path file, String... overrides) {
        return assertThrows(ConfigException.class, () -> ExperimentConfig.load(file, List.of(overrides)));
    }

    private static ConfigProblem onlyProblem(ConfigException e) {
        assertEquals(1, e.problems().size(), e.getMessage());
        return e.problems().get(0);
    }

    private static void assertProblem(ConfigProblem p, String source, int line, String path, String value) {
        assertEquals(source, p.source(), p.render());
        assertEquals(line, p.line(), p.render());
        assertEquals(path, p.path(), p.render());
        assertEquals(value, p.value(), p.render());
    }

    @Test
    void unknownTopLevelKeySuggestsClosestAndListsAllowed() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + """
                trainig:
                  epochs: 3
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 5, "trainig", null);
        assertEquals(f + ":5: trainig is not an allowed key (did you mean training?): allowed keys are "
                + "extends, name, description, dataset, model, training, quantization, init_from", p.render());
    }

    @Test
    void unknownNestedKey() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + """
                training:
                  optimizer:
                    name: adam
                    betta1: 0.8
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 8, "training.optimizer.betta1", null);
        assertTrue(p.message().contains("(did you mean beta1?)"), p.message());
        assertTrue(p.message().endsWith("allowed keys are name, lr, momentum, beta1, beta2, epsilon"), p.message());
    }

    @Test
    void unknownBatchNormKindListsTheAllowedOnes() throws IOException {
        Path f = write("x.yaml", """
                dataset:
                  name: mnist
                model:
                  name: lenet5
                  options:
                    batch_norm: l2
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 6, "model.options.batch_norm", "l2");
        assertEquals("is not allowed: allowed one of false, true, standard, range, l1 (did you mean l1?)", p.message());
        Path g = write("y.yaml", VALID_HEAD + """
                  options:
                    batch_norm: 3
                """);
        assertEquals("has the wrong type (integer): allowed one of false, true, standard, range, l1",
                onlyProblem(fails(g)).message());
    }

    @Test
    void stringWhereIntegerExpected() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + """
                training:
                  epochs: abc
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 6, "training.epochs", "abc");
        assertEquals("has the wrong type (string): allowed an integer in 1..100000", p.message());
    }

    @Test
    void negativeLearningRateIsOutOfRange() throws IOException {
        Path f = write("configs/mnist/x.yaml", VALID_HEAD + """
                training:
                  epochs: 3
                  optimizer:
                    name: adam
                    lr: -0.1
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertEquals(f + ":9: training.optimizer.lr = -0.1 is out of range: allowed a number > 0", p.render());
    }

    @Test
    void zeroEpochsIsOutOfRange() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + "training: {epochs: 0}\n");
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 5, "training.epochs", "0");
        assertEquals("is out of range: allowed an integer in 1..100000", p.message());
    }

    @Test
    void dropoutOfOneIsOutOfRange() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + "  options:\n    dropout: 1.0\n");
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 6, "model.options.dropout", "1.0");
        assertEquals("is out of range: allowed a number in [0, 1)", p.message());
    }

    @Test
    void unknownDatasetNameListsAllowedNames() throws IOException {
        Path f = write("x.yaml", """
                dataset:
                  name: mnst
                model:
                  name: lenet5
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 2, "dataset.name", "mnst");
        assertEquals("is not allowed: allowed one of mnist, fashion-mnist, cifar10 (did you mean mnist?)", p.message());
    }

    @Test
    void mlpOptionGivenToLenet5() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + """
                  options:
                    variant: wage
                    hidden: [512]
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 7, "model.options.hidden", null);
        assertEquals("is not an allowed key for model lenet5: allowed keys are variant, batch_norm, dropout, activation, "
                + "bias, fold_bn, freeze_bn_after, freeze_bn_after_iterations", p.message());
    }

    @Test
    void badListElementType() throws IOException {
        Path f = write("x.yaml", """
                dataset: {name: mnist}
                model:
                  name: mlp
                  options:
                    hidden: [512, abc, 256]
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 5, "model.options.hidden[1]", "abc");
        assertEquals("has the wrong type (string): allowed an integer in 1..65536", p.message());
    }

    @Test
    void emptyHiddenListIsRejected() throws IOException {
        Path f = write("x.yaml", "dataset: {name: mnist}\nmodel: {name: mlp, options: {hidden: []}}\n");
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 2, "model.options.hidden", "[]");
        assertTrue(p.message().startsWith("is out of range: allowed a non-empty list"), p.message());
    }

    @Test
    void augmentOnlyForCifar10() throws IOException {
        Path f = write("x.yaml", """
                dataset:
                  name: fashion-mnist
                  augment: true
                model:
                  name: lenet5
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertEquals(f + ":3: dataset.augment = true is not allowed: augmentation is only available for cifar10",
                p.render());
    }

    @Test
    void foldBnNeedsBatchNorm() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + """
                  options:
                    fold_bn: true
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertEquals(f + ":6: model.options.fold_bn = true is not allowed: fold_bn needs batch_norm: true or standard "
                + "(it fuses each convolution / dense layer with the standard batch normalization after it)", p.render());
    }

    @Test
    void freezeBnNeedsFoldBnAndOneUnit() throws IOException {
        Path f = write("x.yaml", """
                dataset: {name: mnist}
                model:
                  name: mlp
                  options:
                    batch_norm: true
                    freeze_bn_after: 2
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 6, "model.options.freeze_bn_after", "2");
        assertTrue(p.message().contains("freeze_bn_after needs fold_bn: true"), p.message());

        Path both = write("y.yaml", VALID_HEAD + """
                  options: {batch_norm: true, fold_bn: true, freeze_bn_after: 1, freeze_bn_after_iterations: 100}
                """);
        p = onlyProblem(fails(both));
        assertProblem(p, both.toString(), 5, "model.options.freeze_bn_after_iterations", "100");
        assertTrue(p.message().endsWith("give freeze_bn_after (epochs) or freeze_bn_after_iterations, not both"),
                p.message());

        Path zero = write("z.yaml", VALID_HEAD + """
                  options: {batch_norm: true, fold_bn: true, freeze_bn_after_iterations: 0}
                """);
        p = onlyProblem(fails(zero));
        assertProblem(p, zero.toString(), 5, "model.options.freeze_bn_after_iterations", "0");
        assertEquals("is out of range: allowed an integer >= 1", p.message());
    }

    @Test
    void missingDatasetName() throws IOException {
        Path f = write("x.yaml", """
                dataset:
                  data_dir: data
                model:
                  name: lenet5
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 1, "dataset.name", null);
        assertEquals("is missing: required, allowed one of mnist, fashion-mnist, cifar10", p.message());
    }

    @Test
    void missingDatasetSectionReportsMissingName() throws IOException {
        Path f = write("x.yaml", "model:\n  name: lenet5\n");
        ConfigProblem p = onlyProblem(fails(f));
        assertEquals(f + ": dataset.name is missing: required, allowed one of mnist, fashion-mnist, cifar10",
                p.render());
    }

    @Test
    void extendsMissingFile() throws IOException {
        Path f = write("a/child.yaml", "# child\nextends: ../nowhere.yaml\n");
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 2, "extends", "../nowhere.yaml");
        assertTrue(p.message().contains("does not exist: " + dir.resolve("nowhere.yaml")), p.message());
    }

    @Test
    void extendsCycle() throws IOException {
        Path a = write("a.yaml", "extends: b.yaml\n" + VALID_HEAD);
        Path b = write("b.yaml", "# b\n\nextends: a.yaml\n");
        ConfigProblem p = onlyProblem(fails(a));
        assertProblem(p, b.toString(), 3, "extends", "a.yaml");
        assertEquals("creates a cycle: " + a + " -> " + b + " -> " + a, p.message());
    }

    @Test
    void extendsItself() throws IOException {
        Path a = write("self.yaml", "extends: self.yaml\n");
        ConfigProblem p = onlyProblem(fails(a));
        assertEquals(a + ":1: extends = self.yaml creates a cycle: " + a + " -> " + a, p.render());
    }

    @Test
    void yamlSyntaxErrorHasFileAndLine() throws IOException {
        Path f = write("x.yaml", """
                dataset:
                  name: mnist
                model:
                  name: lenet5
                  options: [relu
                training:
                  epochs: 3
                """);
        ConfigException e = fails(f);
        ConfigProblem p = onlyProblem(e);
        assertEquals(f.toString(), p.source());
        assertTrue(p.line() >= 5 && p.line() <= 6, p.render());
        assertTrue(p.message().startsWith("YAML syntax error: "), p.message());
        assertTrue(e.getMessage().contains(f + ":" + p.line() + ": YAML syntax error"), e.getMessage());
    }

    @Test
    void badIndentationIsASyntaxError() throws IOException {
        Path f = write("x.yaml", "dataset:\n  name: mnist\n normalization: unit\n");
        ConfigProblem p = onlyProblem(fails(f));
        assertEquals(3, p.line(), p.render());
        assertTrue(p.message().startsWith("YAML syntax error: "), p.message());
    }

    @Test
    void duplicateKeyIsReported() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + "training:\n  epochs: 3\n  epochs: 4\n");
        ConfigProblem p = onlyProblem(fails(f));
        assertEquals(f + ":7: epochs is written twice in the same map (first on line 6)", p.render());
    }

    @Test
    void fileThatIsAListIsRejected() throws IOException {
        Path f = write("x.yaml", "- a\n- b\n");
        ConfigProblem p = onlyProblem(fails(f));
        assertTrue(p.message().contains("must contain a YAML map"), p.message());
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("missing.yaml");
        assertEquals(f + ": file not found", onlyProblem(fails(f)).render());
    }

    @Test
    void setWithUnknownPath() throws IOException {
        Path f = write("x.yaml", VALID_HEAD);
        ConfigProblem p = onlyProblem(fails(f, "training.epocs=3"));
        assertProblem(p, "--set training.epocs=3", 0, "training.epocs", null);
        assertTrue(p.render().startsWith("--set training.epocs=3: training.epocs is not an allowed key "
                + "(did you mean epochs?): allowed keys are epochs, batch_size"), p.render());
    }

    @Test
    void setWithUnknownTopLevelPath() throws IOException {
        Path f = write("x.yaml", VALID_HEAD);
        ConfigProblem p = onlyProblem(fails(f, "trainig.epochs=3"));
        assertProblem(p, "--set trainig.epochs=3", 0, "trainig", null);
        assertTrue(p.message().contains("did you mean training?"), p.message());
    }

    @Test
    void setWithBadValue() throws IOException {
        Path f = write("x.yaml", VALID_HEAD);
        ConfigProblem p = onlyProblem(fails(f, "training.epochs=abc"));
        assertEquals("--set training.epochs=abc: training.epochs = abc has the wrong type (string): "
                + "allowed an integer in 1..100000", p.render());
    }

    @Test
    void setWithoutEqualsSign() throws IOException {
        Path f = write("x.yaml", VALID_HEAD);
        ConfigProblem p = onlyProblem(fails(f, "training.epochs"));
        assertEquals("--set training.epochs: is not of the form path=value (e.g. --set training.epochs=3)",
                p.render());
    }

    @Test
    void setThroughAScalar() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + "training:\n  epochs: 3\n");
        ConfigProblem p = onlyProblem(fails(f, "training.epochs.max=3"));
        assertEquals("--set training.epochs.max=3: training.epochs = 3 is not a map, so training.epochs.max cannot "
                + "be set", p.render());
    }

    @Test
    void setWithUnparsableValue() throws IOException {
        Path f = write("x.yaml", VALID_HEAD);
        ConfigProblem p = onlyProblem(fails(f, "model.options.hidden=[1, 2"));
        assertEquals("--set model.options.hidden=[1, 2", p.source());
        assertTrue(p.message().startsWith("is not a valid YAML value"), p.message());
    }

    @Test
    void layerOverrideWithBothNameAndKind() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + """
                quantization:
                  weights: 8
                  layers:
                    - kind: conv
                      weights: 4
                    - name: conv1
                      kind: conv
                      weights: 2
                """);
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 10, "quantization.layers[1]", "{name: conv1, kind: conv, weights: 2}");
        assertEquals("has more than one of name, kind: allowed exactly one of name, kind", p.message());
    }

    @Test
    void layerOverrideWithNeitherNameNorKind() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + "quantization:\n  layers:\n    - weights: 4\n");
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 7, "quantization.layers[0]", "{weights: 4}");
        assertEquals("has none of name, kind: allowed exactly one of name, kind", p.message());
    }

    @Test
    void bitWidthsZeroAnd33AndBadStringAreRejected() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + """
                quantization:
                  weights: 0
                  activations: 33
                  gradients: half
                  first_layer:
                    errors: 8.5
                """);
        ConfigException e = fails(f);
        List<ConfigProblem> ps = e.problems();
        assertEquals(4, ps.size(), e.getMessage());
        String allowed = "allowed an integer bit width in 1..32, float, or a quantizer spec such as ternary or "
                + "int(bits=4, axis=channel) (see docs/quantizers.md)";
        assertEquals(f + ":6: quantization.weights = 0 is out of range: " + allowed, ps.get(0).render());
        assertEquals(f + ":7: quantization.activations = 33 is out of range: " + allowed, ps.get(1).render());
        assertTrue(ps.get(2).render().startsWith(f + ":8: quantization.gradients = half is not a valid precision ("),
                ps.get(2).render());
        assertTrue(ps.get(2).render().contains("int, fixed, binary"), "the spec error lists the quantizer names: "
                + ps.get(2).render());
        assertEquals(f + ":10: quantization.first_layer.errors = 8.5 has the wrong type (number): " + allowed
                + ", shift(bits=N)", ps.get(3).render());
    }

    @Test
    void fixedPointKeysAreCheckedWithTheAllowedValues() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + """
                quantization:
                  errors: terngrad
                  gradients: wage(bits=20)
                  fixed_point:
                    master_weights: "int(bits=8, observer=ema)"
                    loss_scale: 1000
                    optimizer_state: 8
                    updates: wage(bits=8)
                    wage_scale: maybe
                    accumulation_chunk: 0
                    accumulation_backward: true
                training:
                  loss: hinge
                """);
        ConfigException e = fails(f);
        String m = e.getMessage();
        for (String expected : new String[] {
                "quantization.errors = terngrad is not a valid precision ('terngrad' cannot be used for errors",
                "quantization.gradients = wage(bits=20) is not a valid precision (wage bits must be in [2, 16], got 20)",
                "quantization.fixed_point.master_weights = int(bits=8, observer=ema) is not a valid format (",
                "keep no state",
                "quantization.fixed_point.loss_scale = 1000 is not allowed: the loss scale must be a power of two",
                "quantization.fixed_point.optimizer_state = 8 has the wrong type (integer): allowed float or a quantizer "
                        + "spec without observer",
                "quantization.fixed_point.updates = wage(bits=8) is not a valid precision ('wage(bits=8)' cannot be used "
                        + "for updates",
                "quantization.fixed_point.wage_scale = maybe",
                "quantization.fixed_point.accumulation_chunk = 0 is out of range",
                "accumulation_backward needs an accumulation format (e.g. fp16)",
                "training.loss = hinge", "cross_entropy, sse"}) {
            assertTrue(m.contains(expected), "expected '" + expected + "' in:\n" + m);
        }
        assertEquals(10, e.problems().size(), m);
    }

    @Test
    void fixedPointSectionLoadsWithDefaults() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + """
                quantization:
                  errors: shift(bits=6)
                  gradients: "terngrad(clip=3)"
                  fixed_point:
                    master_weights: fp16
                    loss_scale: 128
                """);
        ExperimentConfig c = ExperimentConfig.load(f, null);
        FixedPointConfig fp = c.quantization().fixedPoint();
        assertEquals("fp16", fp.masterWeights().toString());
        assertEquals(128, fp.lossScale(), 0);
        assertEquals(0, fp.weightClip(), 0);
        assertTrue(fp.updates().isFloat() && fp.optimizerState().isFloat() && !fp.wageScale());
        assertTrue(fp.accumulation().isFloat());
        assertEquals(64, fp.accumulationChunk());
        assertEquals("shift(bits=6)", c.quantization().errors().toString());
        assertEquals("terngrad(clip=3)", c.quantization().gradients().gradient().toString());
        assertEquals("cross_entropy", c.training().loss());
        assertEquals(c.resolved(), ExperimentConfig.load(write("again.yaml", c.toYaml()), null).resolved());
    }

    @Test
    void specStringsAreAcceptedAndPrintedCanonically() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + """
                quantization:
                  weights: "int(bits=4, axis=channel, narrow=true)"
                  activations: uint4
                """);
        ExperimentConfig c = ExperimentConfig.load(f, List.of());
        assertEquals("int(bits=4, narrow=true, axis=channel)", c.quantization().weights().toString());
        assertEquals(4, c.quantization().weights().bits());
        assertEquals("uint4", c.quantization().activations().toString());
        assertEquals(c.resolved(), ExperimentConfig.load(write("y.yaml", c.toYaml()), List.of()).resolved());
    }

    @Test
    void sectionOfWrongType() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + "training: fast\n");
        ConfigProblem p = onlyProblem(fails(f));
        assertProblem(p, f.toString(), 5, "training", "fast");
        assertTrue(p.message().startsWith("has the wrong type (string): allowed a map with keys epochs, batch_size"),
                p.message());
    }

    @Test
    void extendsMustNotBeSetOnTheCommandLine() throws IOException {
        Path f = write("x.yaml", VALID_HEAD);
        ConfigProblem p = onlyProblem(fails(f, "extends=other.yaml"));
        assertProblem(p, "--set extends=other.yaml", 0, "extends", "other.yaml");
    }

    @Test
    void allProblemsAreReportedAtOnce() throws IOException {
        Path f = write("x.yaml", """
                dataset:
                  name: svhn
                  augment: yes please
                model:
                  name: mlp
                  options:
                    hidden: [0, 128]
                    activation: sigmoid
                training:
                  epochs: 0
                  batch_size: many
                  optimizer: {name: rmsprop, lr: -1}
                  schedule: {type: step, gamma: 1.5}
                color: blue
                """);
        ConfigException e = fails(f, "training.log_every=0");
        List<String> lines = e.problems().stream().map(ConfigProblem::render).toList();
        String prefix = f + ":";
        List<String> expected = List.of(
                "--set training.log_every=0: training.log_every = 0 is out of range: allowed an integer >= 1",
                prefix + "14: color is not an allowed key",
                prefix + "2: dataset.name = svhn is not allowed: allowed one of mnist, fashion-mnist, cifar10",
                prefix + "3: dataset.augment = yes please has the wrong type (string): allowed true or false",
                prefix + "7: model.options.hidden[0] = 0 is out of range: allowed an integer in 1..65536",
                prefix + "8: model.options.activation = sigmoid is not allowed: allowed one of relu, tanh",
                prefix + "10: training.epochs = 0 is out of range",
                prefix + "11: training.batch_size = many has the wrong type (string)",
                prefix + "12: training.optimizer.name = rmsprop is not allowed: allowed one of sgd, nesterov, adam",
                prefix + "12: training.optimizer.lr = -1 is out of range: allowed a number > 0",
                prefix + "13: training.schedule.gamma = 1.5 is out of range: allowed a number in (0, 1]");
        assertEquals(expected.size(), lines.size(), e.getMessage());
        for (String want : expected) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(want)), "missing: " + want + "\n" + e.getMessage());
        }
        String message = e.getMessage();
        assertTrue(message.startsWith("Invalid experiment config (11 problems):"), message);
        assertEquals(12, message.lines().count(), message);
        assertFalse(message.contains("Exception"), message);
    }

    @Test
    void singleProblemHeaderIsSingular() throws IOException {
        Path f = write("x.yaml", VALID_HEAD + "init_from: 3\n");
        ConfigException e = fails(f);
        assertEquals("Invalid experiment config (1 problem):" + System.lineSeparator() + "  " + f
                + ":5: init_from = 3 has the wrong type (integer): allowed a string", e.getMessage());
        assertNull(e.getCause());
    }
}
