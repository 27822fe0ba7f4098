package io.qat4j.training.run;

import io.qat4j.training.model.Network;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Accuracy and mean cross-entropy of a classifier over a data set, in one inference pass. */
public final class Evaluator {

    /** What an evaluation measured. */
    public record Result(long examples, long correct, double meanLoss, long[][] confusion) {
        /** Fraction of examples whose arg-max prediction equals the label. */
        public double accuracy() {
            return examples == 0 ? Double.NaN : (double) correct / examples;
        }
    }

    private Evaluator() {
    }

    /**
     * Evaluates {@code net} in inference mode on at most {@code limit} examples (0 = all).
     * Loss is {@code -log p(label)} averaged over examples, probabilities clamped at 1e-12.
     */
    public static Result evaluate(Network net, DataSetIterator it, long limit) {
        it.reset();
        int classes = -1;
        long[][] confusion = null;
        long n = 0;
        long correct = 0;
        double lossSum = 0;
        while (it.hasNext() && (limit <= 0 || n < limit)) {
            DataSet ds = it.next();
            INDArray x = ds.getFeatures();
            INDArray y = ds.getLabels();
            if (limit > 0 && n + x.size(0) > limit) {
                int keep = (int) (limit - n);
                x = x.get(NDArrayIndex.interval(0, keep), NDArrayIndex.all());
                y = y.get(NDArrayIndex.interval(0, keep), NDArrayIndex.all());
            }
            INDArray p = net.output(x);
            if (confusion == null) {
                classes = (int) p.size(1);
                confusion = new long[classes][classes];
            }
            long[] predicted = p.argMax(1).toLongVector();
            long[] actual = y.argMax(1).toLongVector();
            for (int i = 0; i < predicted.length; i++) {
                confusion[(int) actual[i]][(int) predicted[i]]++;
                if (predicted[i] == actual[i]) {
                    correct++;
                }
            }
            INDArray pLabel = p.castTo(DataType.DOUBLE)
                    .mul(y.castTo(DataType.DOUBLE)).sum(1);
            BooleanIndexing.replaceWhere(pLabel, 1e-12, Conditions.lessThan(1e-12));
            lossSum -= Transforms.log(pLabel, false).sumNumber().doubleValue();
            n += predicted.length;
        }
        return new Result(n, correct, n == 0 ? Double.NaN : lossSum / n, confusion == null ? new long[0][0] : confusion);
    }

}
