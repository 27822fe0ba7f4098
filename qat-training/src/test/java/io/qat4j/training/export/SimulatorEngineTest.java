package io.qat4j.training.export;

import io.qat4j.export.Exporter;

import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.OverflowMode;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The simulation with the fast engine reports exactly what the reference engine reports, minus its statistics. */
class SimulatorEngineTest {

  @Test
  void fastAndReferenceEnginesGiveTheSameReport() {
    MultiLayerNetwork net = ExporterTest.tinyNet();
    DataSet train = ExporterTest.randomImages(64, 1);
    for (int i = 0; i < 20; i++) {
      net.fit(train);
    }
    DataSet images = ExporterTest.randomImages(70, 3);
    Exporter.Result r = Exporter.export(net, "tiny");
    for (EngineConfig c : new EngineConfig[] {EngineConfig.INT32, new EngineConfig(12, OverflowMode.SATURATE)}) {
      Simulator.Report ref = Simulator.run(r.model(), net, r.dl4jSources(), new ListDataSetIterator<>(images.asList(),
          16), 60, c);
      Simulator.Report fast = Simulator.run(r.model(), net, r.dl4jSources(), new ListDataSetIterator<>(images.asList(),
          16), 60, c, true);
      assertEquals("reference", ref.engine());
      assertEquals("fast", fast.engine());
      assertEquals(60, fast.examples());
      assertEquals(ref.engineAccuracy(), fast.engineAccuracy());
      assertEquals(ref.top1Agreement(), fast.top1Agreement());
      assertEquals(ref.outputIdenticalFraction(), fast.outputIdenticalFraction());
      assertEquals(ref.outputMeanAbsDiffLsb(), fast.outputMeanAbsDiffLsb());
      assertEquals(ref.layers(), fast.layers());
      assertTrue(!ref.accumulators().isEmpty() && fast.accumulators().isEmpty());
      assertTrue(fast.engineImagesPerSecond() > 0);
    }
  }
}
