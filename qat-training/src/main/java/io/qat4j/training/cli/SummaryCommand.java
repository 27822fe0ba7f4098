package io.qat4j.training.cli;

import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.model.ModelFactory;
import io.qat4j.training.model.NetworkSummary;
import io.qat4j.training.model.QuantizationPlan;
import io.qat4j.zoo.NetConf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code qat summary CONFIG}: the per-layer table of an experiment's network. */
@Command(name = "summary", mixinStandardHelpOptions = true,
        description = "Print the layers of an experiment's network: shapes, parameters, MACs, precisions, memory.")
final class SummaryCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "CONFIG", description = "Experiment file.")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config value (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() {
        ExperimentConfig cfg = ExperimentConfig.load(config, overrides);
        NetConf conf = ModelFactory.build(cfg);
        List<QuantizationPlan.LayerRef> refs = ModelFactory.layerRefs(conf);
        QuantizationPlan.requireKnownNames(cfg.quantization(), refs);
        NetworkSummary s = NetworkSummary.of(conf, ModelFactory.inputType(cfg, conf),
                QuantizationPlan.resolve(cfg.quantization(), refs));
        System.out.print(s.render(cfg.name() + ": " + cfg.model().name() + " on " + cfg.dataset().name()
                + " (MACs per image; memory = parameters at the planned weight precision)"));
        List<String> backward = conf instanceof NetConf.Graph g
                ? io.qat4j.layers.train.FixedPointTraining.describe(g.conf())
                : io.qat4j.layers.train.FixedPointTraining.describe(((NetConf.Stack) conf).conf());
        if (!backward.isEmpty()) {
            System.out.println();
            System.out.println("Backward paths (fixed-point training):");
            backward.forEach(System.out::println);
        }
        return 0;
    }
}
