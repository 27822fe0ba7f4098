package io.qat4j.layers.convert;

import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.model.VGG16;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class ZooReproTest {
    @Test
    void vgg16() {
        ComputationGraph g = VGG16.builder().numClasses(10).inputShape(new int[] {3, 32, 32}).build().init();
        ComputationGraph q = QatConverter.quantize(g, QuantizationRule.uniform(QuantSites.of(
                "int(bits=8, signed=false, observer=ema)", "int(bits=8, narrow=true, axis=channel)", "float", "float")));
        System.out.println(q.outputSingle(false, Nd4j.rand(2, 3, 32, 32)));
    }
}
