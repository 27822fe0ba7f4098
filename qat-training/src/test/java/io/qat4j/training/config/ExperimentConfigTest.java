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
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Valid configs: defaults, extends, overrides, the resolved map and its YAML round trip, schedules. */
class ExperimentConfigTest {

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        return file;
    }

    @Test
    void defaultsAreApplied() throws IOException {
        Path f = write("minimal.yaml", "dataset: {name: mnist}\nmodel: {name: lenet5}\n");
        ExperimentConfig c = ExperimentConfig.load(f, List.of());

        assertEquals("minimal", c.name());
        assertEquals(f, c.sourceFile());
        assertEquals(new DatasetConfig("mnist", "data", "unit", 5000, 0, 0, false), c.dataset());
        assertEquals("lenet5", c.model().name());
        assertEquals(Map.of("variant", "caffe", "batch_norm", false, "dropout", 0.0, "activation", "relu",
                "fold_bn", false, "bias", true), c.model().options());
        assertNull(c.model().optIntOrNull("freeze_bn_after"), "optional, no default");
        assertEquals("caffe", c.model().optString("variant"));
        assertFalse(c.model().optBool("batch_norm"));
        assertEquals(0.0, c.model().optDouble("dropout"));
        assertEquals(new TrainingConfig(10, 64, 42L, 0.0,
                new OptimizerConfig("adam", 0.001, 0.9, 0.9, 0.999, 1e-8),
                new ScheduleConfig("constant", 10, 0.1, 0.0), 0, 50), c.training());
        QuantizationConfig q = c.quantization();
        assertEquals(Precision.FLOAT, q.weights());
        assertEquals(Precision.FLOAT, q.errors());
        assertTrue(q.firstLayer().isEmpty());
        assertTrue(q.lastLayer().isEmpty());
        assertEquals(List.of(), q.layers());
        assertTrue(q.isFloatEverywhere());
        assertEquals(List.of("name", "dataset", "model", "training", "quantization"),
                List.copyOf(c.resolved().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> c.resolved().put("x", 1));
        assertThrows(UnsupportedOperationException.class, () -> c.model().options().put("x", 1));
        assertThrows(IllegalArgumentException.class, () -> c.model().optIntList("hidden"));
    }

    @Test
    void mlpDefaultsAndTypedOptions() throws IOException {
        Path f = write("m.yaml", "name: my-mlp\ndataset: {name: mnist}\nmodel: {name: mlp, options: {dropout: 0}}\n");
        ExperimentConfig c = ExperimentConfig.load(f, null);
        assertEquals("my-mlp", c.name());
        assertEquals(List.of(1024, 1024), c.model().optIntList("hidden"));
        assertEquals(0.0, c.model().optDouble("dropout"));
        assertEquals("relu", c.model().optString("activation"));
    }

    @Test
    void extendsMergesChildOverParent() throws IOException {
        write("base/parent.yaml", """
                name: parent-name
                description: parent
                dataset:
                  name: mnist
                  validation: 1000
                model:
                  name: lenet5
                  options: {variant: wage, dropout: 0.25}
                training:
                  epochs: 5
                  optimizer:
                    name: nesterov
                    lr: 0.1
                    momentum: 0.5
                """);
        Path child = write("exp/child.yaml", """
                extends: ../base/parent.yaml
                training:
                  optimizer:
                    lr: 0.05
                model:
                  options:
                    activation: tanh
                """);
        ExperimentConfig c = ExperimentConfig.load(child, List.of());
        assertEquals("child", c.name(), "name is not inherited");
        assertEquals("parent", c.resolved().get("description"));
        assertEquals(1000, c.dataset().validation());
        assertEquals(Map.of("variant", "wage", "dropout", 0.25, "activation", "tanh", "batch_norm", false,
                "fold_bn", false, "bias", true), c.model().options());
        assertEquals(5, c.training().epochs());
        assertEquals(new OptimizerConfig("nesterov", 0.05, 0.5, 0.9, 0.999, 1e-8), c.training().optimizer());
    }

    @Test
    void chainedExtends() throws IOException {
        write("a.yaml", "dataset: {name: mnist}\nmodel: {name: lenet5}\ntraining: {epochs: 1, batch_size: 8}\n");
        write("b.yaml", "extends: a.yaml\ntraining: {epochs: 2}\n");
        Path c = write("c.yaml", "extends: b.yaml\ntraining: {seed: 7}\n");
        TrainingConfig t = ExperimentConfig.load(c, List.of()).training();
        assertEquals(2, t.epochs());
        assertEquals(8, t.batchSize());
        assertEquals(7L, t.seed());
    }

    @Test
    void errorsInParentPointToParentFile() throws IOException {
        Path parent = write("parent.yaml", """
                dataset:
                  name: mnist
                model:
                  name: lenet5
                training:
                  batch_size: 0
                """);
        Path child = write("sub/child.yaml", """
                extends: ../parent.yaml
                training:
                  epochs: -1
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> ExperimentConfig.load(child, List.of()));
        assertEquals(List.of(
                child + ":3: training.epochs = -1 is out of range: allowed an integer in 1..100000",
                parent + ":6: training.batch_size = 0 is out of range: allowed an integer in 1..65536"),
                e.problems().stream().map(ConfigProblem::render).toList());
    }

    @Test
    void setOverridesIncludingListsAndNewNestedMaps() throws IOException {
        Path f = write("x.yaml", "dataset: {name: mnist}\nmodel: {name: lenet5}\n");
        ExperimentConfig c = ExperimentConfig.load(f, List.of(
                "training.epochs=3",
                "training.optimizer.lr=0.1",
                "training.optimizer.name=sgd",
                "training.schedule.gamma=0.5",
                "dataset.augment=false",
                "model.name=mlp",
                "model.options.hidden=[512, 256]",
                "quantization.weights=8",
                "quantization.layers=[{kind: output, weights: float}]",
                "name=from-cli"));
        assertEquals("from-cli", c.name());
        assertEquals(3, c.training().epochs());
        assertEquals(new OptimizerConfig("sgd", 0.1, 0.9, 0.9, 0.999, 1e-8), c.training().optimizer());
        assertEquals(0.5, c.training().schedule().gamma());
        assertEquals(List.of(512, 256), c.model().optIntList("hidden"));
        assertEquals(new Precision(8), c.quantization().weights());
        assertEquals(List.of(new LayerOverride(null, "output", Precision.FLOAT, null, null, null)),
                c.quantization().layers());
        assertFalse(c.quantization().isFloatEverywhere());
    }

    @Test
    void laterOverridesWinAndEmptyValueMeansDefault() throws IOException {
        Path f = write("x.yaml", "dataset: {name: mnist, data_dir: /tmp/d}\nmodel: {name: lenet5}\n"
                + "init_from: runs/a/model.zip\n");
        ExperimentConfig c = ExperimentConfig.load(f,
                List.of("training.epochs=3", "training.epochs=4", "dataset.data_dir=", "init_from=null"));
        assertEquals(4, c.training().epochs());
        assertEquals("data", c.dataset().dataDir());
        assertFalse(c.resolved().containsKey("init_from"));
    }

    @Test
    void quantizationShape() throws IOException {
        Path f = write("q.yaml", """
                dataset: {name: cifar10, augment: true, normalization: standardize}
                model: {name: lenet5}
                quantization:
                  weights: 2
                  activations: 8
                  gradients: 32
                  errors: float
                  first_layer: {weights: 8}
                  last_layer: {weights: 8, activations: float}
                  layers:
                    - {name: conv2, weights: 4}
                    - {kind: batchnorm, weights: float, activations: float}
                init_from: runs/mnist/model.zip
                """);
        ExperimentConfig c = ExperimentConfig.load(f, List.of());
        QuantizationConfig q = c.quantization();
        assertEquals(new Precision(2), q.weights());
        assertEquals("8", q.activations().toString());
        assertTrue(q.gradients().isFloat());
        assertEquals("float", q.gradients().toString());
        assertEquals(new SiteOverride(new Precision(8), null, null, null), q.firstLayer());
        assertEquals(new SiteOverride(new Precision(8), Precision.FLOAT, null, null), q.lastLayer());
        assertEquals(List.of(new LayerOverride("conv2", null, new Precision(4), null, null, null),
                new LayerOverride(null, "batchnorm", Precision.FLOAT, Precision.FLOAT, null, null)), q.layers());
        assertFalse(q.isFloatEverywhere());
        assertTrue(c.dataset().augment());
        assertEquals("runs/mnist/model.zip", c.resolved().get("init_from"));
    }

    @Test
    void toYamlLoadsBackToAnEqualConfig() throws IOException {
        Path f = write("full.yaml", """
                description: round trip
                dataset: {name: cifar10, augment: true}
                model: {name: mlp, options: {hidden: [300, 100], dropout: 0.5, batch_norm: true}}
                training:
                  seed: 12345678901
                  weight_decay: 0.0005
                  optimizer: {name: adam, lr: 3e-4, epsilon: 1.0e-7}
                  schedule: {type: cosine, min_lr: 0.00001}
                quantization:
                  weights: 4
                  first_layer: {weights: 8}
                  layers: [{kind: conv, activations: 32}]
                init_from: runs/x/model.zip
                """);
        ExperimentConfig c = ExperimentConfig.load(f, List.of("training.epochs=7"));
        String yaml = c.toYaml();
        Path again = write("run/config.yaml", yaml);
        ExperimentConfig reloaded = ExperimentConfig.load(again, List.of());
        assertEquals(c.resolved(), reloaded.resolved(), yaml);
        assertEquals(c, reloaded);
        assertEquals("full", reloaded.name());
        assertEquals(12345678901L, reloaded.training().seed());
        assertEquals(3e-4, reloaded.training().optimizer().lr());
        assertEquals(yaml, reloaded.toYaml());
        assertTrue(yaml.startsWith("name: full\n"), yaml);
    }

    @Test
    void nameFromFileNameWithoutYamlExtension() throws IOException {
        Path f = write("lenet5-fp32.yaml", "dataset: {name: mnist}\nmodel: {name: lenet5}\n");
        assertEquals("lenet5-fp32", ExperimentConfig.load(f, List.of()).name());
    }

    @Test
    void lrSchedules() {
        assertEquals(0.01, new ScheduleConfig("constant", 10, 0.1, 0).lrAt(0.01, 7, 10));

        ScheduleConfig step = new ScheduleConfig("step", 3, 0.5, 0);
        assertEquals(0.1, step.lrAt(0.1, 0, 10));
        assertEquals(0.1, step.lrAt(0.1, 2, 10));
        assertEquals(0.05, step.lrAt(0.1, 3, 10));
        assertEquals(0.025, step.lrAt(0.1, 6, 10), 1e-15);
        assertEquals(0.0125, step.lrAt(0.1, 9, 10), 1e-15);

        ScheduleConfig exp = new ScheduleConfig("exponential", 10, 0.7, 0);
        assertEquals(0.001, exp.lrAt(0.001, 0, 3));
        assertEquals(0.0007, exp.lrAt(0.001, 1, 3), 1e-15);
        assertEquals(0.00049, exp.lrAt(0.001, 2, 3), 1e-15);

        ScheduleConfig cos = new ScheduleConfig("cosine", 10, 0.1, 0.0001);
        assertEquals(0.01, cos.lrAt(0.01, 0, 10), 1e-15);
        assertEquals(0.00505, cos.lrAt(0.01, 5, 10), 1e-15);
        assertEquals(0.0001 + 0.0099 * (1 + Math.sqrt(0.5)) / 2, cos.lrAt(0.01, 1, 4), 1e-15);
        assertEquals(0.0001, cos.lrAt(0.01, 10, 10), 1e-15);
    }

    @Test
    void trainingLrAtUsesOptimizerLrAndEpochs() throws IOException {
        Path f = write("s.yaml", "dataset: {name: mnist}\nmodel: {name: lenet5}\n"
                + "training: {epochs: 4, optimizer: {lr: 0.2}, schedule: {type: step, step_epochs: 2, gamma: 0.5}}\n");
        TrainingConfig t = ExperimentConfig.load(f, List.of()).training();
        assertEquals(List.of(0.2, 0.2, 0.1, 0.1), List.of(t.lrAt(0), t.lrAt(1), t.lrAt(2), t.lrAt(3)));
    }

    @Test
    void precisionToStringAndRange() {
        assertEquals("float", Precision.FLOAT.toString());
        assertTrue(new Precision(32).isFloat());
        assertEquals("1", new Precision(1).toString());
        assertThrows(IllegalArgumentException.class, () -> new Precision(0));
        assertThrows(IllegalArgumentException.class, () -> new Precision(33));
    }

    @Test
    void everyFileInConfigsLoads() throws IOException {
        Path configs = Path.of("..", "configs");
        assertTrue(Files.isDirectory(configs), "expected the repository's configs/ at " + configs.toAbsolutePath());
        List<Path> files;
        try (Stream<Path> walk = Files.walk(configs)) {
            files = walk.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 5, files.toString());
        for (Path file : files) {
            ExperimentConfig c = ExperimentConfig.load(file, List.of());
            ExperimentConfig again = ExperimentConfig.load(write("reload/" + file.getFileName(), c.toYaml()), List.of());
            assertEquals(c.resolved(), again.resolved(), file.toString());
        }
    }

    @Test
    void exampleConfigsSayWhatTheyShould() {
        ExperimentConfig mnist = ExperimentConfig.load(Path.of("..", "configs", "mnist", "lenet5-fp32.yaml"), null);
        assertEquals("lenet5-fp32", mnist.name());
        assertEquals(3, mnist.training().epochs());
        assertEquals("caffe", mnist.model().optString("variant"));
        assertTrue(mnist.quantization().isFloatEverywhere());

        ExperimentConfig wage = ExperimentConfig.load(Path.of("..", "configs", "mnist", "lenet5-wage-fp32.yaml"), null);
        assertEquals("lenet5-wage-fp32", wage.name());
        assertEquals("wage", wage.model().optString("variant"));
        assertEquals(mnist.training().optimizer(), wage.training().optimizer());
        assertEquals(5, wage.training().epochs(), "as long as the fixed-point runs it is compared with");

        ExperimentConfig mlp = ExperimentConfig.load(Path.of("..", "configs", "mnist", "mlp-fp32.yaml"), null);
        assertEquals(List.of(1024, 1024), mlp.model().optIntList("hidden"));

        ExperimentConfig fashion = ExperimentConfig.load(
                Path.of("..", "configs", "fashion-mnist", "lenet5-fp32.yaml"), null);
        assertEquals("fashion-mnist", fashion.dataset().name());
        assertEquals(mnist.training().optimizer(), fashion.training().optimizer(), "inherited from the MNIST config");
        assertTrue(fashion.training().epochs() > mnist.training().epochs());
        assertTrue(fashion.model().optBool("batch_norm"));
        assertEquals("caffe", fashion.model().optString("variant"));

        // the three normalization configs differ only in the normalization
        Map<String, String> norms = Map.of("lenet5-bn.yaml", "standard", "lenet5-rangebn.yaml", "range",
                "lenet5-l1bn.yaml", "l1");
        ExperimentConfig bn = ExperimentConfig.load(Path.of("..", "configs", "mnist", "lenet5-bn.yaml"), null);
        for (Map.Entry<String, String> e : norms.entrySet()) {
            ExperimentConfig c = ExperimentConfig.load(Path.of("..", "configs", "mnist", e.getKey()), null);
            assertEquals(e.getValue(), c.model().optText("batch_norm"), e.getKey());
            assertEquals("wage", c.model().optString("variant"), e.getKey());
            assertEquals(4, c.training().epochs(), e.getKey());
            assertTrue(c.quantization().isFloatEverywhere(), e.getKey());
            assertEquals(bn.training(), c.training(), e.getKey());
            assertEquals(bn.dataset(), c.dataset(), e.getKey());
            assertEquals(bn.quantization(), c.quantization(), e.getKey());
        }
        assertEquals("false", mnist.model().optText("batch_norm"));
        assertEquals("true", fashion.model().optText("batch_norm"));
        ExperimentConfig convbn = ExperimentConfig.load(
                Path.of("..", "configs", "mnist", "lenet5-convbn-w4a4.yaml"), null);
        assertEquals("wage", convbn.model().optString("variant"));
        assertTrue(convbn.model().optBool("batch_norm") && convbn.model().optBool("fold_bn"));
        assertEquals(2, convbn.model().optIntOrNull("freeze_bn_after"));
        assertNull(convbn.model().optIntOrNull("freeze_bn_after_iterations"));
        assertEquals(4, convbn.training().epochs());
        assertEquals(new Precision(4), convbn.quantization().weights());
        assertEquals(new Precision(8), convbn.quantization().firstLayer().activations());

        ExperimentConfig cifar = ExperimentConfig.load(Path.of("..", "configs", "cifar10", "lenet5-fp32.yaml"), null);
        assertEquals(new DatasetConfig("cifar10", "data", "standardize", 5000, 0, 0, true), cifar.dataset());
        assertNull(cifar.resolved().get("init_from"));
    }
}
