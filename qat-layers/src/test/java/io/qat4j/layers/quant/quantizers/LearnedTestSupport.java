package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.LearnedQuantizer;
import io.qat4j.layers.quant.NdArrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Parameter and gradient maps for calling learned quantizers directly. */
final class LearnedTestSupport {
  private LearnedTestSupport() {
  }

  /** name, values, name, values, ... as a parameter map of this data type. */
  static Map<String, INDArray> params(DataType type, Object... nameValues) {
    Map<String, INDArray> m = new LinkedHashMap<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      double[] v = (double[]) nameValues[i + 1];
      m.put((String) nameValues[i], NdArrays.create(v, new long[] {v.length}, type));
    }
    return m;
  }

  /** Zero arrays shaped like the parameters, for backward to fill. */
  static Map<String, INDArray> gradients(Map<String, INDArray> params) {
    Map<String, INDArray> m = new LinkedHashMap<>();
    params.forEach((k, v) -> m.put(k, Nd4j.create(v.dataType(), v.shape())));
    return m;
  }

  /** The parameters a quantizer declares, at their initial values. */
  static Map<String, INDArray> initial(LearnedQuantizer q, LearnedQuantizer.Role role, long channels, DataType type) {
    Map<String, INDArray> m = new LinkedHashMap<>();
    for (LearnedQuantizer.Param p : q.params(role, channels)) {
      m.put(p.name(), Nd4j.valueArrayOf(new long[] {p.size()}, p.initial(), type));
    }
    return m;
  }

  static double value(Map<String, INDArray> m, String name) {
    return m.get(name).getDouble(0);
  }
}
