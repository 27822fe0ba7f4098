package io.qat4j.training.report;

import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.data.DataSplits;
import io.qat4j.training.data.DatasetKind;
import io.qat4j.training.model.Network;
import io.qat4j.training.run.Evaluator;
import io.qat4j.training.run.TrainingRun;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The confusion matrix of a run's model on its test set: the model evaluated on exactly the test images the run
 * measured (its {@code config.yaml}, so the same data set, normalization and {@code test_subset}), with
 * {@link Evaluator}.
 *
 * @param model    the model zip evaluated
 * @param classes  class names, one per row and column
 * @param result   the evaluation (rows: label, columns: prediction)
 */
record Confusion(Path model, List<String> classes, Evaluator.Result result) {

    /**
     * Evaluates {@code net} (read from {@code model}) on the test split of the run's configuration.
     *
     * @param configFile the run's {@code config.yaml}
     * @param dataDir    replaces {@code dataset.data_dir} when not null
     */
    static Confusion compute(Path configFile, Path dataDir, Path model, Network net) {
        List<String> overrides = new ArrayList<>();
        if (dataDir != null) {
            overrides.add("dataset.data_dir=" + dataDir);
        }
        ExperimentConfig cfg = ExperimentConfig.load(configFile, overrides);
        DataSplits data = TrainingRun.loadData(cfg);
        Evaluator.Result r = Evaluator.evaluate(net, data.test(256), 0);
        List<String> names = new ArrayList<>(DatasetKind.fromName(cfg.dataset().name()).classNames());
        while (names.size() < r.confusion().length) {
            names.add(Integer.toString(names.size()));
        }
        return new Confusion(model, names.subList(0, r.confusion().length), r);
    }

    /**
     * The matrix as a table whose cells are shaded by their share of the row (the label's images), with the
     * per-class recall in the last column.
     */
    String render() {
        long[][] c = result.confusion();
        String[] header = new String[c.length + 2];
        header[0] = "label \\ prediction";
        for (int j = 0; j < c.length; j++) {
            header[j + 1] = classes.get(j);
        }
        header[c.length + 1] = "recall";
        Html.Table t = new Html.Table(header).css("confusion");
        for (int i = 0; i < c.length; i++) {
            long total = 0;
            for (long v : c[i]) {
                total += v;
            }
            Object[] row = new Object[c.length + 2];
            row[0] = Html.cell(classes.get(i), "name");
            for (int j = 0; j < c.length; j++) {
                row[j + 1] = Html.shaded(Long.toString(c[i][j]), total == 0 ? 0 : (double) c[i][j] / total);
            }
            row[c.length + 1] = Html.cell(total == 0 ? Html.NONE : Html.pct((double) c[i][i] / total), "num");
            t.row(row);
        }
        return t.render();
    }
}
