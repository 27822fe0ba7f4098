package io.qat4j.training.examples;

import io.qat4j.training.data.DataSplits;
import io.qat4j.training.data.DatasetKind;
import io.qat4j.training.data.DatasetOptions;
import io.qat4j.training.run.DataFetcher;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's W4A4 snippet compiles (it is this class's code), trains, and learns. */
class W4A4LeNetExampleTest {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    @Test
    void readmeSnippetIsTheExampleCode() throws IOException {
        String readme = Files.readString(REPO.resolve("README.md"));
        String source = Files.readString(REPO.resolve(
                "qat-training/src/main/java/io/qat4j/training/examples/W4A4LeNetExample.java"));
        String snippet = source.substring(source.indexOf("// --- README snippet start") + "// --- README snippet start".length(),
                source.indexOf("        // --- README snippet end"));
        String normalized = snippet.lines().map(String::strip).filter(l -> !l.isEmpty()).reduce("", (a, b) -> a + b + "\n");
        String readmeNormalized = readme.lines().map(String::strip).filter(l -> !l.isEmpty()).reduce("", (a, b) -> a + b + "\n");
        assertTrue(readmeNormalized.contains(normalized), "README must contain the example's configuration code verbatim");
    }

    @Test
    void trainsOnAnMnistSubset() {
        System.setProperty("qat.home", REPO.toString());
        Path data = REPO.resolve("data");
        DataFetcher.ensurePresent(DatasetKind.MNIST, data);
        MultiLayerNetwork net = W4A4LeNetExample.train(data, 2000, 1);
        DataSplits mnist = DataSplits.load(DatasetOptions.builder(DatasetKind.MNIST, data).validationSize(0)
                .testSubset(2000).build());
        Evaluation eval = net.evaluate(mnist.test(500));
        assertEquals(2000, eval.getNumRowCounter());
        // 2,000 images, one epoch at W4A4: well above chance (measured about 90%).
        assertTrue(eval.accuracy() > 0.80, "accuracy " + eval.accuracy());
    }
}
