package io.qat4j.training.export;

import io.qat4j.inference.AccumulatorWidth;
import io.qat4j.inference.Requantizer;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.Formats;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Manifest;
import io.qat4j.inference.format.Requant;
import io.qat4j.inference.format.TensorSpec;
import io.qat4j.layers.fold.BatchNormFold;
import io.qat4j.layers.nn.DeviationBatchNorm;
import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantConvBN2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantDenseBN;
import io.qat4j.layers.nn.impl.FusedBnImpl;
import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantParamInitializer;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.observe.Observers;
import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.RoundingMode;
import io.qat4j.layers.quant.Quantizers;
import io.qat4j.layers.train.ScaledActivation;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationHardTanH;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a trained quantized {@link MultiLayerNetwork} into an integer-only {@link ExportModel}
 * ({@code docs/export-format.md}) that {@code io.qat4j.inference.engine.IntegerEngine} runs.
 *
 * <p>What is computed (Jacob et al., "Quantization and Training of Neural Networks for Efficient
 * Integer-Arithmetic-Only Inference", arXiv:1712.05877, §2):
 * <ul>
 *   <li>Input: image pixels x/255 are uint8 codes q = x·255 with scale s_x = 1/255, zero point 0.</li>
 *   <li>Weights of a conv / dense layer: the codes of the layer's weight quantizer (its
 *       {@link QuantResult#codes()}) with its per-channel scales s_w[c] and zero points; DL4J's dense layout
 *       [nIn, nOut] is transposed to [O, F]. Binary and ternary weights give binary_ / ternary_ ops (codes
 *       +-1 / 0, scale alpha[c]). Batch normalization that follows the layer is folded after quantization:
 *       g = γ/sqrt(σ²+ε) multiplies the per-channel scale, the bias becomes g·(b − μ) + β; the codes stay
 *       those of the fake-quant weights, so the fold is exact. A channel with g &lt; 0 has its codes negated
 *       and a positive scale. Layers that fold it during training ({@link QuantConvBN2D}, {@link QuantDenseBN})
 *       export their inference-mode folded weights and bias ({@link FusedBnImpl#foldedWeights()}), quantized by
 *       their weight site exactly as in their forward pass.</li>
 *   <li>Bias: int32 b_q[c] = round(b[c] / (s_x·s_w[c])) (eq. 10 and §2.4).</li>
 *   <li>Output scale s_y and zero point z_y: those of the next quantized activation site (a
 *       {@link QuantActivation} after optional ReLU / max pooling, or the layer's own output site), computed
 *       by that site's quantizer from its observer's (min, max), exactly as the fake-quant model does.</li>
 *   <li>Requantization per output channel: M[c] = s_x·s_w[c] / s_y (eq. 5), encoded with
 *       {@link Requantizer#requant} (an int32 multiplier and a right shift, or a pure shift). By default the
 *       multiplier is applied with one rounding of the exact 64-bit product ("single_round_multiplier"), which
 *       reproduces the fake-quant model's rounding of the real product; gemmlowp's two-rounding form is an option.</li>
 *   <li>ReLU is folded into the clamp [max(z_y, qmin), qmax], hard tanh into [z_y + rint(-1/s_y), z_y + rint(1/s_y)].</li>
 *   <li>A binary activation site (sign, BNN) makes the layer output codes +-1: y = acc &gt;= 0 ? +1 : -1 with the
 *       int32 bias floor(b / (s_x·s_w[c])), which is exactly sign(x) of the real pre-activation for an integer
 *       acc (requant kind "sign").</li>
 *   <li>Max pooling is kept after the requantization: max pooling commutes with the monotone requantization,
 *       and the fake-quant model quantizes after the pool.</li>
 *   <li>Flattening of convolutional activations is in C, H, W order (DL4J's CnnToFeedForward).</li>
 *   <li>The output layer (float output site, softmax or identity) yields logits: with {@link OutputQuant#int32()}
 *       int32 logits at the common scale s_out = s_x·min_c s_w[c] without clamping (M[c] = s_w[c] / min_c s_w[c]
 *       &ge; 1, so the accumulator a[c] at scale s_x·s_w[c], bias included, is only rescaled); with an N-bit
 *       {@link OutputQuant} signed N-bit codes at its scale (as a symmetric output quantizer calibrated on
 *       training images would give).</li>
 * </ul>
 * Unsupported layers (or float sites where integers are needed) raise {@link IllegalArgumentException}
 * naming the layer and what is supported.
 */
public final class Exporter {

  /** What the exporter supports, for error messages. */
  public static final String SUPPORTED = "QuantConv2D / QuantDense / QuantConvBN2D / QuantDenseBN / QuantOutput with "
      + "int, fixed, binary or ternary weights, QuantActivation with a per-tensor int or fixed spec or binary, "
      + "SubsamplingLayer (max), ActivationLayer (relu, hardtanh, identity), BatchNormalization or DeviationBatchNorm "
      + "(RangeBN, L1BN) after a conv / dense layer, DropoutLayer (ignored at inference)";

  /** Scale of 8-bit image inputs x/255. */
  public static final double UNIT_IMAGE_SCALE = 1.0 / 255.0;

  /**
   * An export with, for each exported layer that has a counterpart in the DL4J network, the index of the DL4J
   * layer whose (fake-quant) activation the layer's codes represent at the layer's output quantization.
   * The output (logits) layer has no entry: its DL4J counterpart applies softmax.
   */
  public record Result(ExportModel model, Map<String, Integer> dl4jSources) {}

  /**
   * How the output layer's logits are exported: {@code bits} 32 keeps the int32 accumulator scale; 2..16 bits give
   * symmetric signed codes at {@code scale}.
   */
  public record OutputQuant(int bits, double scale) {
    /** Validates the fields. */
    public OutputQuant {
      if (bits != 32 && (bits < 2 || bits > 16)) {
        throw new IllegalArgumentException("output bits " + bits + " not allowed; allowed: 2..16 or 32");
      }
      if (bits != 32 && !(scale > 0 && Double.isFinite(scale))) {
        throw new IllegalArgumentException("output scale " + scale + " not allowed; allowed: finite > 0");
      }
    }

    /** int32 logits at the accumulator scale. */
    public static OutputQuant int32() {
      return new OutputQuant(32, Double.NaN);
    }

    /** Symmetric N-bit logits covering [-maxAbs, maxAbs]: scale = maxAbs / (2^(N-1) - 1). */
    public static OutputQuant covering(int bits, double maxAbs) {
      if (bits == 32) {
        return int32();
      }
      if (!(maxAbs > 0 && Double.isFinite(maxAbs))) {
        throw new IllegalArgumentException("logit range " + maxAbs + " not allowed; allowed: finite > 0");
      }
      return new OutputQuant(bits, maxAbs / ((1 << (bits - 1)) - 1));
    }
  }

  private Exporter() {}

  /** Input quantization of unit-scaled 8-bit images: uint8, scale 1/255, zero point 0. */
  public static ActivationSpec unitImageInput(List<Integer> shape) {
    return ActivationSpec.of(shape, 8, false, UNIT_IMAGE_SCALE, 0);
  }

  /** Exports a network whose input is unit-scaled 8-bit images ({@link #unitImageInput}), int32 logits. */
  public static Result export(MultiLayerNetwork net, String modelName) {
    return export(net, modelName, unitImageInput(inputShape(net)), OutputQuant.int32());
  }

  /** Exports a network whose input is unit-scaled 8-bit images with the given logit quantization. */
  public static Result export(MultiLayerNetwork net, String modelName, OutputQuant output) {
    return export(net, modelName, unitImageInput(inputShape(net)), output);
  }

  /** Exports a network with the given input and logit quantization. */
  public static Result export(MultiLayerNetwork net, String modelName, ActivationSpec input, OutputQuant output) {
    return export(net, modelName, input, output, true);
  }

  /**
   * Exports a network with the given input and logit quantization; {@code singleRound} chooses requantization of kind
   * "single_round_multiplier" (one rounding of the exact product; the default) over gemmlowp's "multiplier" (two
   * roundings, bit-exact with TFLite's default kernels).
   */
  public static Result export(MultiLayerNetwork net, String modelName, ActivationSpec input, OutputQuant output,
      boolean singleRound) {
    return new Exporter.Run(net, input, output, singleRound).run(modelName);
  }

  /**
   * The largest |logit| of the fake-quant model over {@code x} (a calibration batch), for
   * {@link OutputQuant#covering}.
   */
  public static double maxAbsLogit(MultiLayerNetwork net, INDArray x) {
    return fakeQuantLogits(net, net.feedForward(x, false)).amaxNumber().doubleValue();
  }

  /**
   * The NCHW input shape (N = 1) of a network: from its first preprocessor (FeedForwardToCnn) for
   * convolutional networks, [1, nIn] for dense ones.
   */
  /**
   * The layer stack of a network to export.
   *
   * @throws io.qat4j.training.UserException for a graph (not exportable by this class)
   */
  public static MultiLayerNetwork stack(io.qat4j.training.model.Network net) {
    if (net.isGraph()) {
      throw new io.qat4j.training.UserException("this network is a ComputationGraph; the exporter takes layer stacks "
          + "(MultiLayerNetwork) only");
    }
    return (MultiLayerNetwork) net.model();
  }

  public static List<Integer> inputShape(MultiLayerNetwork net) {
    MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
    InputPreProcessor pre = conf.getInputPreProcess(0);
    if (pre instanceof FeedForwardToCnnPreProcessor p) {
      return List.of(1, (int) p.getNumChannels(), (int) p.getInputHeight(), (int) p.getInputWidth());
    }
    Layer first = conf.getConf(0).getLayer();
    if (first instanceof org.deeplearning4j.nn.conf.layers.FeedForwardLayer ff
        && !(first instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer)) {
      return List.of(1, (int) ff.getNIn());
    }
    throw new IllegalArgumentException("cannot tell the input shape of layer " + first.getLayerName()
        + ": a convolutional network needs a FeedForwardToCnn input preprocessor (InputType.convolutionalFlat)");
  }

  /**
   * The quantized activation of a site: bits, signedness, scale and zero point from the site's quantizer
   * applied (as the fake-quant layer does) with the observer's range from the state parameter.
   */
  static ActivationSpec activation(String layer, QuantSpec spec, INDArray state, List<Integer> shape) {
    if (spec.isFloat()) {
      throw new IllegalArgumentException("layer " + layer + ": float activation site where integer codes are needed");
    }
    if (spec.kind() != QuantKind.INT && spec.kind() != QuantKind.FIXED) {
      throw new IllegalArgumentException("layer " + layer + ": activation spec " + spec + " not supported; allowed: "
          + "int or fixed (per tensor)");
    }
    if (spec.granularity() != Granularity.TENSOR) {
      throw new IllegalArgumentException("layer " + layer + ": activation spec " + spec + " is not per tensor; "
          + "the export format has one scale per activation tensor");
    }
    QuantContext ctx = new QuantContext(-1, null, null, 0L, false);
    if (spec.needsObserver()) {
      Observer obs = Observers.of(spec.observer());
      if (state == null || obs.updates(state) == 0) {
        throw new IllegalArgumentException("layer " + layer + ": the observer of " + spec + " has seen no data; "
            + "train the model before exporting it");
      }
      ctx = ctx.withRange(obs.min(state), obs.max(state));
    } else if (spec.kind() == QuantKind.INT) {
      throw new IllegalArgumentException("layer " + layer + ": activation spec " + spec + " derives its range from "
          + "each batch (no observer), which has no fixed integer scale; use an observer");
    }
    QuantResult r = Quantizers.of(spec).forward(Nd4j.zeros(DataType.FLOAT, 1, 1), ctx);
    double scale = r.scale().getDouble(0);
    int zp = (int) Math.round(r.zeroPoint().getDouble(0));
    return ActivationSpec.of(shape, spec.bits(), spec.signed(), scale, zp);
  }

  /** The fake-quantized weights of a quantized layer (what its forward pass uses), detached. */
  public static INDArray fakeQuantWeights(MultiLayerNetwork net, int index) {
    Layer conf = net.getLayerWiseConfigurations().getConf(index).getLayer();
    QuantSpec spec = ((QuantLayer) conf).getQuantSites().weights();
    INDArray w = net.getLayer(index).getParam("W");
    if (spec.isFloat()) {
      return w.dup();
    }
    int axis = conf instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer ? 0 : 1;
    return Quantizers.of(spec).forward(w, new QuantContext(spec.granularity() == Granularity.TENSOR ? -1 : axis,
        null, null, 0L, false)).output();
  }

  /**
   * Float logits (pre-softmax) of the network's output layer as the fake-quant model computes them:
   * in · Q_w(W) + b, with {@code in} the output layer's input from {@code net.feedForward(x, false)}
   * ({@code activations.get(n - 1)} for n layers, preprocessed as DL4J does).
   */
  public static INDArray fakeQuantLogits(MultiLayerNetwork net, List<INDArray> activations) {
    int last = net.getnLayers() - 1;
    INDArray in = activations.get(last);
    InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(last);
    if (pre != null) {
      in = pre.preProcess(in, (int) in.size(0), org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
    }
    INDArray w = fakeQuantWeights(net, last);
    INDArray z = in.castTo(w.dataType()).mmul(w);
    INDArray b = net.getLayer(last).paramTable().get("b");
    if (b != null) {
      z.addiRowVector(b.reshape(1, b.length()));
    }
    Layer outConf = net.getLayerWiseConfigurations().getConf(last).getLayer();
    if (outConf instanceof BaseLayer bl && bl.getActivationFn() instanceof ScaledActivation sa) {
      z.muli(sa.scale()); // WAGE's 1/α on the output layer scales the logits
    }
    return z;
  }

  /** One export pass over a network. */
  private static final class Run {
    private final MultiLayerNetwork net;
    private final MultiLayerConfiguration conf;
    private final ActivationSpec input;
    private final OutputQuant outputQuant;
    private final boolean singleRound;
    private final List<LayerSpec> layers = new ArrayList<>();
    private final Map<String, IntTensor> tensors = new HashMap<>();
    private final Map<String, Integer> sources = new LinkedHashMap<>();
    /** Name and quantization of the last emitted activation. */
    private String current = "input";
    private ActivationSpec currentAct;
    /** A conv / dense layer whose output quantization is not known yet. */
    private Pending pending;

    Run(MultiLayerNetwork net, ActivationSpec input, OutputQuant outputQuant, boolean singleRound) {
      this.singleRound = singleRound;
      this.net = net;
      this.conf = net.getLayerWiseConfigurations();
      this.input = input;
      this.outputQuant = outputQuant;
      this.currentAct = input;
    }

    ExportModel runModel(String modelName) {
      int n = conf.getConfs().size();
      for (int i = 0; i < n; i++) {
        Layer l = conf.getConf(i).getLayer();
        String name = l.getLayerName() == null ? "layer" + i : l.getLayerName();
        boolean last = i == n - 1;
        if (l instanceof QuantConv2D || l instanceof QuantDense || l instanceof QuantOutput || l instanceof QuantConvBN2D
            || l instanceof QuantDenseBN) {
          requireResolved(name);
          startWeighted(i, name, l, last);
        } else if (l instanceof QuantActivation qa) {
          if (pending == null) {
            throw new IllegalArgumentException("layer " + name + " (QuantActivation) must follow a conv / dense layer "
                + "(through an activation / max pooling) whose output site is float; requantizing an already "
                + "quantized activation is not supported");
          }
          pending.clip(name, qa.getActivationFn());
          resolve(qa.spec(), net.getLayer(i).getParam(QuantParamInitializer.OUTPUT_STATE_KEY), name);
        } else if (l instanceof SubsamplingLayer s) {
          pool(i, name, s);
        } else if (l instanceof ActivationLayer a) {
          if (pending != null) {
            // The activations allowed here are monotone, so they commute with max pooling and may come after a pool.
            pending.clip(name, a.getActivationFn());
            if (pending.pools.isEmpty()) {
              pending.source = i;
            }
          } else {
            activationOnCodes(i, name, a.getActivationFn());
          }
        } else if (BatchNormFold.isNormalization(l)) {
          if (pending == null || !pending.pools.isEmpty() || pending.clipped() || pending.folded) {
            throw new IllegalArgumentException("layer " + name + " (" + l.getClass().getSimpleName() + ") can only be "
                + "exported directly after a conv / dense layer with identity activation, to be folded into it");
          }
          pending.foldBatchNorm(BatchNormFold.Stats.of(net.getLayer(i)));
          pending.source = i;
          if (l instanceof DeviationBatchNorm d) {
            pending.clip(name, d.getActivationFn()); // RangeBN / L1BN apply their activation
          }
        } else if (l instanceof DropoutLayer) {
          continue;
        } else {
          throw new IllegalArgumentException("layer " + name + " (" + l.getClass().getSimpleName()
              + ") not supported; supported: " + SUPPORTED);
        }
      }
      if (pending != null) {
        throw new IllegalArgumentException("layer " + pending.name + ": float output site where integer codes are "
            + "needed (no quantized activation follows it)");
      }
      return new ExportModel(Manifest.of(modelName, List.of("npy"), input, layers), tensors);
    }

    Result run(String modelName) {
      ExportModel m = runModel(modelName);
      return new Result(m, Collections.unmodifiableMap(sources));
    }

    private void requireResolved(String next) {
      if (pending != null) {
        throw new IllegalArgumentException("layer " + pending.name + ": float output site where integer codes are "
            + "needed (layer " + next + " follows without a quantized activation in between)");
      }
    }

    /** An activation layer on already quantized codes: ReLU or hard tanh become a clamp of the codes. */
    private void activationOnCodes(int i, String name, IActivation a) {
      double[] range = clipRange(name, a);
      if (range == null) {
        return;
      }
      if (currentAct.isBinary()) {
        if (range[0] == -1 && currentAct.scale() <= 1) {
          return; // hard tanh leaves +-scale alone
        }
        throw new IllegalArgumentException("layer " + name + ": activation " + a + " on binary codes not supported");
      }
      int lo = codeBound(range[0], currentAct, currentAct.qmin());
      int hi = codeBound(range[1], currentAct, currentAct.qmax());
      String op = range[0] == 0 && Double.isInfinite(range[1]) ? "relu" : "clamp";
      emit(LayerSpec.builder(name, op, current).inputShapes(currentAct.shape()).output(currentAct)
          .clamp(lo, hi).build(), i);
    }

    private void startWeighted(int i, String name, Layer l, boolean last) {
      QuantSites s = ((QuantLayer) l).getQuantSites();
      if (!s.input().isFloat()) {
        throw new IllegalArgumentException("layer " + name + ": quantized input site " + s.input()
            + " not supported; the export takes the previous layer's codes as input (input site must be float)");
      }
      QuantSpec ws = s.weights();
      if (!WEIGHT_KINDS.contains(ws.kind())) {
        throw new IllegalArgumentException("layer " + name + ": weight spec " + ws + " not supported; allowed: int, "
            + "fixed (per tensor or per channel), binary, ternary");
      }
      if (ws.granularity() != Granularity.TENSOR && ws.granularity() != Granularity.CHANNEL) {
        throw new IllegalArgumentException("layer " + name + ": weight spec " + ws + " not supported; allowed: per "
            + "tensor or per channel");
      }
      if (!s.bias().isFloat()) {
        throw new IllegalArgumentException("layer " + name + ": quantized bias site " + s.bias() + " not supported; "
            + "the export quantizes the float bias to int32 at scale input_scale * weight_scale");
      }
      org.deeplearning4j.nn.api.Layer impl = net.getLayer(i);
      Pending p = new Pending();
      p.name = name;
      p.index = i;
      p.source = i;
      p.in = currentAct;
      p.inName = current;
      p.wSpec = ws;
      INDArray rawW;
      INDArray rawB;
      if (impl instanceof FusedBnImpl<?> fused) {
        BatchNormFold.Folded f = fused.foldedWeights();
        rawW = f.weights();
        rawB = f.bias();
        p.folded = true;
      } else {
        rawW = impl.getParam("W");
        rawB = impl.paramTable().get("b");
      }
      IActivation act = ((BaseLayer) l).getActivationFn();
      double actScale = 1;
      if (act instanceof ScaledActivation sa) {
        // WAGE's constant layer scale: c·f(z) with c > 0 is folded into the weight scales and the bias below.
        actScale = sa.scale();
        act = sa.base();
      }
      if (l instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer c) {
        if (currentAct.shape().size() != 4) {
          throw new IllegalArgumentException("layer " + name + " (" + l.getClass().getSimpleName()
              + ") needs an NCHW input, got shape "
              + currentAct.shape());
        }
        requireTruncate(name, c.getConvolutionMode());
        p.op = "conv2d";
        p.wAxis = 0;
        p.kernel = c.getKernelSize();
        p.stride = c.getStride();
        p.padding = c.getPadding();
        p.dilation = c.getDilation();
        List<Integer> in = currentAct.shape();
        p.outShape = List.of(1, (int) c.getNOut(), outSize(in.get(2), p.kernel[0], p.stride[0], p.padding[0],
            p.dilation[0]), outSize(in.get(3), p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]));
      } else {
        if (currentAct.shape().size() == 4) {
          flatten(name, i);
          p.in = currentAct;
          p.inName = current;
        }
        long nOut = ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) l).getNOut();
        p.op = "dense";
        p.wAxis = 1;
        p.outShape = List.of(1, (int) nOut);
      }
      p.quantizeWeights(rawW, rawB);
      p.scaleOutput(actScale);
      if (l instanceof QuantOutput) {
        if (!last) {
          throw new IllegalArgumentException("layer " + name + " (QuantOutput) must be the last layer");
        }
        if (!(act instanceof ActivationSoftmax || act instanceof ActivationIdentity)) {
          throw new IllegalArgumentException("layer " + name + ": output activation " + act + " not supported; "
              + "allowed: softmax, identity (the export yields logits)");
        }
        pending = p;
        emitLogits();
        return;
      }
      p.clip(name, act, actScale);
      pending = p;
      if (!s.output().isFloat()) {
        resolve(s.output(), impl.getParam(QuantParamInitializer.OUTPUT_STATE_KEY), name);
      }
    }

    private void flatten(String name, int i) {
      InputPreProcessor pre = conf.getInputPreProcess(i);
      if (!(pre instanceof CnnToFeedForwardPreProcessor c) || c.getFormat() != CNN2DFormat.NCHW) {
        throw new IllegalArgumentException("layer " + name + ": a dense layer after convolutional activations needs "
            + "DL4J's NCHW CnnToFeedForward preprocessor, got " + pre);
      }
      List<Integer> s = currentAct.shape();
      ActivationSpec out = currentAct.withShape(List.of(1, s.get(1) * s.get(2) * s.get(3)));
      emit(LayerSpec.builder(name + "_flatten", "flatten", current).inputShapes(currentAct.shape()).output(out).build(),
          null);
    }

    private void pool(int i, String name, SubsamplingLayer s) {
      if (s.getPoolingType() != PoolingType.MAX) {
        throw new IllegalArgumentException("layer " + name + " (SubsamplingLayer " + s.getPoolingType()
            + ") not supported; allowed: max pooling");
      }
      requireTruncate(name, s.getConvolutionMode());
      List<Integer> in = pending != null
          ? (pending.pools.isEmpty() ? pending.outShape : pending.pools.get(pending.pools.size() - 1).outShape)
          : currentAct.shape();
      if (in.size() != 4) {
        throw new IllegalArgumentException("layer " + name + " (max pooling) needs an NCHW input, got " + in);
      }
      Pool p = new Pool();
      p.name = name;
      p.index = i;
      p.kernel = s.getKernelSize();
      p.stride = s.getStride();
      p.padding = s.getPadding();
      p.dilation = s.getDilation();
      p.outShape = List.of(1, in.get(1), outSize(in.get(2), p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]),
          outSize(in.get(3), p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]));
      if (pending != null) {
        pending.pools.add(p);
      } else {
        emitPool(p, currentAct);
      }
    }

    private void emitPool(Pool p, ActivationSpec inAct) {
      ActivationSpec out = inAct.withShape(p.outShape);
      emit(LayerSpec.builder(p.name, "max_pool", current).inputShapes(inAct.shape()).output(out)
          .kernel(p.kernel[0], p.kernel[1]).stride(p.stride[0], p.stride[1])
          .padding(p.padding[0], p.padding[1], p.padding[0], p.padding[1]).dilation(p.dilation[0], p.dilation[1])
          .build(), p.index);
    }

    private static void requireTruncate(String name, ConvolutionMode mode) {
      if (mode != null && mode != ConvolutionMode.Truncate && mode != ConvolutionMode.Strict) {
        throw new IllegalArgumentException("layer " + name + ": convolution mode " + mode + " not supported; "
            + "allowed: Truncate, Strict (explicit padding)");
      }
    }

    private static int outSize(int in, int k, int s, int pad, int d) {
      return Math.floorDiv(in + 2 * pad - d * (k - 1) - 1, s) + 1;
    }

    /** Emits the pending layer with the output quantization of {@code spec} (and its buffered pools). */
    private void resolve(QuantSpec spec, INDArray state, String siteLayer) {
      Pending p = pending;
      List<Integer> last = p.pools.isEmpty() ? p.outShape : p.pools.get(p.pools.size() - 1).outShape;
      double[] reals = new double[p.sw.length];
      if (spec.kind() == QuantKind.BINARY) {
        if (spec.scaled()) {
          throw new IllegalArgumentException("layer " + siteLayer + ": activation spec " + spec + " scales each batch "
              + "by its mean |x|, which has no fixed integer form; use binary (no scale) for activations");
        }
        if (p.clipLo >= 0) {
          throw new IllegalArgumentException("layer " + siteLayer + ": binary activation after ReLU is constant +1");
        }
        double scale = Quantizers.of(spec).forward(Nd4j.ones(DataType.FLOAT, 1, 1),
            new QuantContext(-1, null, null, 0L, false)).output().getDouble(0);
        emitWeighted(p, Requant.sign(), ActivationSpec.binary(p.outShape, scale), -1, 1);
      } else {
        ActivationSpec out = activation(siteLayer, spec, state, p.outShape);
        int lo = Math.max(codeBound(p.clipLo, out, out.qmin()), spec.qmin());
        int hi = Math.min(codeBound(p.clipHi, out, out.qmax()), spec.qmax());
        for (int c = 0; c < reals.length; c++) {
          reals[c] = p.in.scale() * Math.abs(p.sw[c]) / out.scale();
        }
        // The fake-quant site rounds half to even by default; the requantization reproduces its tie rule (ties are
        // frequent when every scale is a power of two, as in WAGE).
        boolean tiesToEven = spec.rounding() == RoundingMode.NEAREST_EVEN;
        emitWeighted(p, Requantizer.requant(singleRound, tiesToEven, reals), out, lo, hi);
      }
      pending = null;
      ActivationSpec act = currentAct;
      for (Pool pool : p.pools) {
        emitPool(pool, act);
        act = currentAct;
      }
      if (!last.equals(currentAct.shape())) {
        throw new IllegalStateException("shape bookkeeping error at " + siteLayer);
      }
    }

    /**
     * Emits the output layer: int32 logits at scale s_x·min_c s_w[c] (no rounding beyond the bias), or N-bit
     * logits at the given scale.
     */
    private void emitLogits() {
      Pending p = pending;
      double[] reals = new double[p.sw.length];
      if (outputQuant.bits() == 32) {
        double minSw = Double.MAX_VALUE;
        for (double s : p.sw) {
          minSw = Math.min(minSw, Math.abs(s));
        }
        double sOut = p.in.scale() * minSw;
        for (int c = 0; c < reals.length; c++) {
          reals[c] = p.in.scale() * Math.abs(p.sw[c]) / sOut;
        }
        ActivationSpec out = ActivationSpec.of(p.outShape, 32, true, sOut, 0);
        emitWeighted(p, Requantizer.multipliers(singleRound, reals), out, out.qmin(), out.qmax());
      } else {
        ActivationSpec out = ActivationSpec.of(p.outShape, outputQuant.bits(), true, outputQuant.scale(), 0);
        for (int c = 0; c < reals.length; c++) {
          reals[c] = p.in.scale() * Math.abs(p.sw[c]) / out.scale();
        }
        emitWeighted(p, Requantizer.requant(singleRound, reals), out, out.qmin(), out.qmax());
      }
      sources.remove(p.name);
      pending = null;
    }

    private void emitWeighted(Pending p, Requant requant, ActivationSpec out, int lo, int hi) {
      int channels = p.outShape.get(1);
      boolean sign = Requant.SIGN.equals(requant.kind());
      int[] wCodes = p.codes.clone();
      int perChannel = wCodes.length / channels;
      List<Double> swList = new ArrayList<>();
      List<Integer> zwList = new ArrayList<>();
      boolean zeroWeightsZp = true;
      QuantSpec ws = p.wSpec;
      for (int c = 0; c < channels; c++) {
        double sc = p.sw[c];
        if (sc < 0) {
          // A negative folded scale (BN with gamma < 0): negate the channel's codes so that every scale is positive.
          if (p.zw[c] != 0) {
            throw new IllegalArgumentException("layer " + p.name + ": channel " + c + " has a negative folded scale "
                + "and weight zero point " + p.zw[c] + "; negating its codes needs zero point 0");
          }
          for (int k = c * perChannel; k < (c + 1) * perChannel; k++) {
            wCodes[k] = -wCodes[k];
            if (wCodes[k] > ws.qmax()) {
              throw new IllegalArgumentException("layer " + p.name + ": channel " + c + " has a negative folded scale "
                  + "and the code " + (-wCodes[k]) + ", whose negation does not fit " + ws
                  + "; use a narrow (symmetric) weight range");
            }
          }
          sc = -sc;
        }
        swList.add(sc);
        zwList.add(p.zw[c]);
        zeroWeightsZp &= p.zw[c] == 0;
      }
      String kind = ws.kind().specName();
      int wBits = ws.kind() == QuantKind.BINARY ? 1 : ws.kind() == QuantKind.TERNARY ? 2 : ws.bits();
      boolean wSigned = ws.kind() == QuantKind.BINARY || ws.kind() == QuantKind.TERNARY || ws.signed();
      TensorSpec wSpec = new TensorSpec(p.name + ".weight.npy", p.wShape, Formats.dtypeFor(Math.max(wBits, 2), wSigned),
          wBits, wSigned, kind, 0, swList, zwList, null);
      tensors.put(wSpec.file(), IntTensor.of(p.wShape, wCodes));

      TensorSpec bSpec = null;
      if (p.bias != null) {
        int[] bq = new int[channels];
        List<Double> bScale = new ArrayList<>();
        for (int c = 0; c < channels; c++) {
          double s = p.in.scale() * swList.get(c);
          double v = p.bias[c] / s;
          // Sign outputs compare acc + b with 0 for an integer acc: floor(b) keeps that comparison exact.
          double q = sign ? Math.floor(v) : Math.rint(v);
          if (!(q <= Integer.MAX_VALUE && q >= Integer.MIN_VALUE)) {
            throw new IllegalArgumentException("layer " + p.name + ": bias " + p.bias[c] + " of channel " + c
                + " does not fit int32 at scale " + s);
          }
          bq[c] = (int) q;
          bScale.add(s);
        }
        bSpec = new TensorSpec(p.name + ".bias.npy", List.of(channels), "int32", 32, true, "bias", 0, bScale,
            Collections.nCopies(channels, 0), null);
        tensors.put(bSpec.file(), IntTensor.of(List.of(channels), bq));
      }
      int fanIn = perChannel;
      if (p.op.equals("conv2d") && p.wShape.size() == 4) {
        fanIn = p.wShape.get(1) * p.wShape.get(2) * p.wShape.get(3);
      }
      boolean signWeights = ws.kind() == QuantKind.BINARY || ws.kind() == QuantKind.TERNARY;
      int inBits = p.in.isBinary() ? 1 : AccumulatorWidth.operandBits(p.in.bits(), p.in.signed(), p.in.zeroPoint());
      int accBits = AccumulatorWidth.required(inBits + (p.in.isBinary() ? 1 : 0),
          signWeights ? 1 : AccumulatorWidth.operandBits(wBits, wSigned, zeroWeightsZp ? 0 : 1), fanIn,
          bSpec != null);
      String op = signWeights ? ws.kind().specName() + "_" + p.op : p.op;
      LayerSpec.Builder b = LayerSpec.builder(p.name, op, p.inName).inputShapes(p.in.shape()).output(out)
          .weights(wSpec).requant(requant).accumulatorBits(accBits);
      if (!sign) {
        b.clamp(lo, hi);
      }
      if (bSpec != null) {
        b.bias(bSpec);
      }
      if (p.op.equals("conv2d")) {
        b.kernel(p.kernel[0], p.kernel[1]).stride(p.stride[0], p.stride[1])
            .padding(p.padding[0], p.padding[1], p.padding[0], p.padding[1]).dilation(p.dilation[0], p.dilation[1]);
      }
      emit(b.build(), p.source);
    }

    private void emit(LayerSpec spec, Integer source) {
      layers.add(spec);
      if (source != null) {
        sources.put(spec.name(), source);
      }
      current = spec.name();
      currentAct = spec.output();
    }
  }

  /** Weight kinds the export writes. */
  private static final java.util.Set<QuantKind> WEIGHT_KINDS =
      java.util.EnumSet.of(QuantKind.INT, QuantKind.FIXED, QuantKind.BINARY, QuantKind.TERNARY);

  /**
   * The code of a real clip bound at an activation quantization, clamp(rint(bound/s) + z) (the quantizer maps a
   * clipped value there; rounding is monotone, so clipping before quantizing equals clamping the codes); an infinite
   * bound gives {@code dflt}.
   */
  static int codeBound(double bound, ActivationSpec act, int dflt) {
    if (Double.isInfinite(bound)) {
      return dflt;
    }
    double q = Math.rint(bound / act.scale()) + act.zeroPoint();
    return (int) Math.max(act.qmin(), Math.min(act.qmax(), q));
  }

  /**
   * The clip range [lo, hi] of a supported activation: ReLU [0, inf), hard tanh [-1, 1]; null for identity; anything
   * else is rejected.
   */
  static double[] clipRange(String name, IActivation a) {
    if (a == null || a instanceof ActivationIdentity) {
      return null;
    }
    if (a instanceof ActivationReLU r && (r.getMax() == null || Double.isInfinite(r.getMax()))
        && (r.getThreshold() == null || r.getThreshold() == 0) && (r.getNegativeSlope() == null
        || r.getNegativeSlope() == 0)) {
      return new double[] {0, Double.POSITIVE_INFINITY};
    }
    if (a instanceof ActivationHardTanH) {
      return new double[] {-1, 1};
    }
    throw new IllegalArgumentException("layer " + name + ": activation " + a + " not supported; allowed: relu, "
        + "hardtanh, identity (softmax on the output layer)");
  }

  /** A conv / dense layer waiting for its output quantization. */
  private static final class Pending {
    String name;
    String op;
    int index;
    int source;
    String inName;
    ActivationSpec in;
    QuantSpec wSpec;
    int wAxis;
    /** Weight codes in the engine's layout ([O, C, kH, kW] or [O, F]), C order. */
    int[] codes;
    List<Integer> wShape;
    /** Per output channel: weight scale (times the folded BN factor; may be negative) and zero point. */
    double[] sw;
    int[] zw;
    /** Real bias per output channel (folded BN included), or null. */
    double[] bias;
    int[] kernel;
    int[] stride;
    int[] padding;
    int[] dilation;
    List<Integer> outShape;
    double clipLo = Double.NEGATIVE_INFINITY;
    double clipHi = Double.POSITIVE_INFINITY;
    boolean folded;
    final List<Pool> pools = new ArrayList<>();

    boolean clipped() {
      return !Double.isInfinite(clipLo) || !Double.isInfinite(clipHi);
    }

    void clip(String layer, IActivation a) {
      clip(layer, a, 1);
    }

    /** The clip of {@code scale · a(z)} (scale > 0): a's range times the scale. */
    void clip(String layer, IActivation a, double scale) {
      double[] r = clipRange(layer, a);
      if (r != null) {
        clipLo = Math.max(clipLo, r[0] * scale);
        clipHi = Math.min(clipHi, r[1] * scale);
      }
    }

    /**
     * Folds a constant output scale c > 0 (WAGE's 1/α, {@link ScaledActivation}) into the layer:
     * c·(conv(x, s_w·q) + b) = conv(x, (c·s_w)·q) + c·b, so the codes stay those of the fake-quant weights.
     * Requires c·f(z) = f(c·z) up to the scaled clip range, which holds for identity, ReLU and hard tanh.
     */
    void scaleOutput(double c) {
      if (c == 1) {
        return;
      }
      for (int k = 0; k < sw.length; k++) {
        sw[k] *= c;
      }
      if (bias != null) {
        for (int k = 0; k < bias.length; k++) {
          bias[k] *= c;
        }
      }
    }

    /** Quantizes the weights as the fake-quant layer does at inference and keeps codes, scales and zero points. */
    void quantizeWeights(INDArray w, INDArray b) {
      int axis = wSpec.granularity() == Granularity.TENSOR ? -1 : wAxis;
      QuantResult r = Quantizers.of(wSpec).forward(w, new QuantContext(axis, null, null, 0L, false));
      INDArray c = op.equals("dense") ? r.codes().transpose() : r.codes();
      c = c.castTo(DataType.DOUBLE).dup('c');
      double[] cd = c.data().asDouble();
      codes = new int[cd.length];
      for (int k = 0; k < cd.length; k++) {
        codes[k] = (int) Math.round(cd[k]);
      }
      wShape = new ArrayList<>();
      for (long d : c.shape()) {
        wShape.add((int) d);
      }
      int channels = outShape.get(1);
      sw = perChannel(r.scale(), channels);
      double[] z = perChannel(r.zeroPoint(), channels);
      zw = new int[channels];
      for (int k = 0; k < channels; k++) {
        zw[k] = (int) Math.round(z[k]);
      }
      bias = b == null ? null : b.castTo(DataType.DOUBLE).dup().data().asDouble();
    }

    /**
     * Folds a following batch normalization into the quantized layer: y = g·(conv(x, s_w·q) + b − μ) + β with
     * g = γ/sqrt(σ²+ε) per channel is conv(x, (g·s_w)·q) + g·(b − μ) + β, so the codes stay those of the fake-quant
     * weights and only the per-channel scale and the bias change (exactly what the fake-quant model computes).
     */
    void foldBatchNorm(BatchNormFold.Stats st) {
      double[] g = st.factor().castTo(DataType.DOUBLE).dup().data().asDouble();
      double[] mu = st.mean().castTo(DataType.DOUBLE).dup().data().asDouble();
      double[] beta = st.beta().castTo(DataType.DOUBLE).dup().data().asDouble();
      if (g.length != sw.length) {
        throw new IllegalArgumentException("layer " + name + ": batch normalization has " + g.length
            + " channels, the layer " + sw.length);
      }
      double[] nb = new double[sw.length];
      for (int c = 0; c < sw.length; c++) {
        sw[c] *= g[c];
        nb[c] = ((bias == null ? 0 : bias[c]) - mu[c]) * g[c] + beta[c];
      }
      bias = nb;
      folded = true;
    }
  }

  private static double[] perChannel(INDArray v, int channels) {
    double[] d = v.castTo(DataType.DOUBLE).dup().data().asDouble();
    if (d.length == channels) {
      return d;
    }
    if (d.length == 1) {
      double[] out = new double[channels];
      java.util.Arrays.fill(out, d[0]);
      return out;
    }
    throw new IllegalStateException("expected 1 or " + channels + " quantization parameters, got " + d.length);
  }

  /** A max pooling layer buffered behind a pending layer. */
  private static final class Pool {
    String name;
    int index;
    int[] kernel;
    int[] stride;
    int[] padding;
    int[] dilation;
    List<Integer> outShape;
  }
}
