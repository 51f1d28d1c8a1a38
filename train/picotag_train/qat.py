"""The quantization-aware ResNet: the integer graph, trainable with LSQ.

The network is a list of operators over numbered values, the same graph
that the model file stores (value 0 is the image; each operator produces
one new value). Every value has exactly one quantizer, owned by the module
that produces it; consumers see its integers and its step. A block's input
is therefore quantized once, by the previous block's output quantizer, and
its identity shortcut reuses those integers.

Activations travel as `QAct(q, step)`: q holds integers (as floats) and the
real value is q * step. Convolutions run on the integers and scale once.

Each convolution keeps its batch norm:

- training, batch norm not frozen: y = BN(s_a s_W conv(q_a, w)) with batch
  statistics, then the residual, then the output quantizer;
- batch norm frozen (training) or eval mode: the folded form with the
  running statistics, which is the integer graph's arithmetic in float32:

      y = s_a s_fold (conv(q_a, w_fold) + bias) + s_r q_r
      s_fold = s_W |gamma / sigma|,  w_fold = w sign(gamma / sigma)
      bias = rhu(b_fold / (s_a s_fold)),  b_fold = beta - gamma mu / sigma

  followed by the output quantizer, q_y = clamp(rhu(y / s_y)).

In eval mode the bias integers come from `fold_conv`, the float64 function
that export uses, so both round the same real number.
"""

import copy
from dataclasses import dataclass
from typing import List, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .lsq import ActivationQuantizer, WeightQuantizer, quantize_weight_int, round_half_up
from .resnet import Bottleneck, ResNet, block_type, input_zero_points

U8, I8, I32 = 1, 2, 3


class QAct(NamedTuple):
    """An activation: integers q (as floats) and their step.

    step is None only while calibration observes real values, and q then
    contains the real values.
    """

    q: torch.Tensor
    step: Optional[torch.Tensor]

    def real(self):
        return self.q if self.step is None else self.q * self.step


def _per_channel(vector):
    return vector.reshape(1, -1, 1, 1)


@dataclass
class FoldedConv:
    """A convolution with its batch norm folded, as export writes it.

    weight: int8 values (int64 tensor, OIHW) with the sign of gamma / sigma
    applied; step: s_fold per output channel (float64); bias_real: b_fold
    (float64); bias: rhu(b_fold / (s_a s_fold)) (int64).
    """

    weight: torch.Tensor
    step: torch.Tensor
    bias_real: torch.Tensor
    bias: torch.Tensor


def _bias_integers(bias_real, grid):
    return torch.floor(bias_real / grid + 0.5).to(torch.int64)


def fold_conv(module, input_step):
    """Fold a QConvBN's batch norm into its weight steps and bias, in float64.

    A channel with gamma = 0 has no weight term at all; its weights become
    zero and its step stays s_W, so that the bias grid is defined.
    """
    with torch.no_grad():
        weight_step = module.weight_quant.effective_step().double()
        q_w = module.integer_weight().to(torch.int64)

        bn = module.bn
        sigma = torch.sqrt(bn.running_var.double() + float(bn.eps))
        gamma = bn.weight.double()
        ratio = gamma / sigma
        sign = torch.sign(ratio).to(torch.int64)
        magnitude = torch.where(ratio == 0, torch.ones_like(ratio), ratio.abs())

        step = weight_step * magnitude
        bias_real = bn.bias.double() - gamma * bn.running_mean.double() / sigma
        bias = _bias_integers(bias_real, float(input_step) * step)
        weight = q_w * sign.reshape(-1, 1, 1, 1)
    return FoldedConv(weight, step, bias_real, bias)


def fold_linear(module, input_step):
    """Return (int8 weights, steps, bias integers) of a QLinear, as export writes them."""
    with torch.no_grad():
        step = module.weight_quant.effective_step().double()
        weight = module.integer_weight().to(torch.int64)
        bias = _bias_integers(module.bias.double(), float(input_step) * step)
    return weight, step, bias


def _quantized_bias(bias_real, grid):
    """rhu(bias_real / grid) with a straight-through gradient."""
    exact = bias_real / grid
    return exact + (round_half_up(exact) - exact).detach()


class QConvBN(nn.Module):
    """Convolution (no bias) + batch norm + optional residual + output quantizer.

    The output quantizer is unsigned (it is also the ReLU) unless
    `signed_output` is set, which the projection shortcut uses.

    `input_scale` (1, C_in, 1, 1), given for the first convolution only,
    multiplies the weights before the quantizer sees them: the stem reads
    t = x - z and absorbs 1 / (255 std_c). The parameter itself stays in
    FP32 units, because SGD on weights scaled by about 1/58 would take
    steps about 58^2 times larger relative to the weights than in FP32
    training. For the same reason the weight steps are stored in units of
    the mean input scale.
    """

    def __init__(self, conv, bn, signed_output=False, input_scale=None):
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach().clone())
        if input_scale is not None:
            self.register_buffer("input_scale", input_scale.detach().clone().reshape(1, -1, 1, 1))
        else:
            self.input_scale = None
        self.stride = tuple(conv.stride)
        self.padding = tuple(conv.padding)
        self.kernel_size = tuple(conv.kernel_size)
        unit = 1.0 if input_scale is None else float(input_scale.mean())
        self.weight_quant = WeightQuantizer(conv.out_channels, unit)
        self.weight_quant.init_lsq(self.real_weight())
        self.bn = bn
        self.out_quant = ActivationQuantizer(signed=signed_output)
        self.register_buffer("bn_frozen", torch.tensor(False))

    def real_weight(self):
        """Return the real-valued weights that go into the quantizer."""
        return self.weight if self.input_scale is None else self.weight * self.input_scale

    def integer_weight(self):
        """Return the int8 weights (as floats), before batch-norm folding."""
        return quantize_weight_int(self.real_weight(), self.weight_quant.effective_step())

    @property
    def in_channels(self):
        return self.weight.shape[1]

    @property
    def out_channels(self):
        return self.weight.shape[0]

    def _conv(self, q, weight):
        return F.conv2d(q, weight, None, self.stride, self.padding)

    def _batch_norm_forward(self, x, q_w, s_w):
        s_in = x.step if x.step is not None else 1.0
        z = self._conv(x.q, q_w) * (s_in * _per_channel(s_w))
        return self.bn(z)

    def _folded_forward(self, x, q_w, s_w):
        bn = self.bn
        sigma = torch.sqrt(bn.running_var + bn.eps)
        ratio = bn.weight / sigma
        sign = torch.sign(ratio).detach()
        magnitude = torch.where(ratio == 0, torch.ones_like(ratio), ratio.abs())
        bias_real = bn.bias - bn.weight * bn.running_mean / sigma

        acc = self._conv(x.q, q_w * sign.reshape(-1, 1, 1, 1))
        if x.step is None:
            return acc * _per_channel(s_w * magnitude) + _per_channel(bias_real)

        grid = x.step * s_w.reshape(-1) * magnitude
        if self.training:
            bias = _quantized_bias(bias_real, grid)
        else:
            bias = fold_conv(self, x.step).bias.to(acc.dtype)
        return (acc + _per_channel(bias)) * _per_channel(grid)

    def forward(self, x, residual=None):
        q_w, s_w = self.weight_quant(self.real_weight())
        s_w = s_w.reshape(-1)
        if self.training and not bool(self.bn_frozen):
            y = self._batch_norm_forward(x, q_w, s_w)
        else:
            y = self._folded_forward(x, q_w, s_w)
        if residual is not None:
            y = y + residual.real()
        return QAct(*self.out_quant(y))


class QLinear(nn.Module):
    """Fully connected classifier: per-channel int8 weights, bias on the grid
    s_p s_W, logits not quantized."""

    def __init__(self, fc):
        super().__init__()
        self.weight = nn.Parameter(fc.weight.detach().clone())
        self.bias = nn.Parameter(fc.bias.detach().clone())
        self.weight_quant = WeightQuantizer(fc.out_features)
        self.weight_quant.init_lsq(self.weight)

    def real_weight(self):
        return self.weight

    def integer_weight(self):
        """Return the int8 weights (as floats)."""
        return quantize_weight_int(self.weight, self.weight_quant.effective_step())

    def forward(self, x, integer_logits=False):
        """Return the real logits, or with `integer_logits` (eval only) the
        int32 logits as floats."""
        q_w, s_w = self.weight_quant(self.weight)
        s_w = s_w.reshape(-1)
        acc = x.q.flatten(1) @ q_w.t()
        if x.step is None:
            return acc * s_w + self.bias

        grid = x.step * s_w
        if self.training:
            bias = _quantized_bias(self.bias, grid)
        else:
            bias = fold_linear(self, x.step)[2].to(acc.dtype)
        if integer_logits:
            return acc + bias
        return (acc + bias) * grid


class QAvgPool(nn.Module):
    """Global average pool with its own unsigned output quantizer."""

    def __init__(self):
        super().__init__()
        self.out_quant = ActivationQuantizer(signed=False)

    def forward(self, x):
        pooled = x.q.mean(dim=(2, 3))
        if x.step is not None:
            pooled = pooled * x.step
        return QAct(*self.out_quant(pooled))


class QBasicBlock(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.conv1 = QConvBN(block.conv1, block.bn1)
        self.conv2 = QConvBN(block.conv2, block.bn2)
        self.downsample = None
        if block.downsample is not None:
            self.downsample = QConvBN(block.downsample[0], block.downsample[1], signed_output=True)

    def convs(self):
        """Return the main-path convolutions in order; the last one adds the shortcut."""
        return [self.conv1, self.conv2]


class QBottleneck(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.conv1 = QConvBN(block.conv1, block.bn1)
        self.conv2 = QConvBN(block.conv2, block.bn2)
        self.conv3 = QConvBN(block.conv3, block.bn3)
        self.downsample = None
        if block.downsample is not None:
            self.downsample = QConvBN(block.downsample[0], block.downsample[1], signed_output=True)

    def convs(self):
        return [self.conv1, self.conv2, self.conv3]


@dataclass
class GraphOp:
    """One operator of the integer graph, in execution order.

    kind is 'conv', 'maxpool', 'avgpool' or 'fc'; input, output and residual
    are value indices (value 0 is the image).
    """

    kind: str
    name: str
    module: Optional[nn.Module]
    input: int
    output: int
    residual: Optional[int] = None


@dataclass
class GraphValue:
    """One activation tensor: dtype (U8, I8, I32), channels and the
    quantizer that sets its step (None for the image and the logits)."""

    dtype: int
    channels: int
    quantizer: Optional[ActivationQuantizer]


MAXPOOL_KERNEL, MAXPOOL_STRIDE, MAXPOOL_PADDING = 3, 2, 1


class QResNet(nn.Module):
    """ResNet-18/34/50 as an LSQ-quantized integer graph.

    Build it with `QResNet.from_float(resnet)`. The first convolution reads
    t = x - z, and its quantizer sees the FP32 weights times 1 / (255 std_c)
    per input channel.
    """

    def __init__(self, float_model):
        super().__init__()
        self.config = float_model.config()
        self.zero_points = input_zero_points(float_model.mean)
        self.register_buffer(
            "input_zero_point",
            torch.tensor(self.zero_points, dtype=torch.float32).view(1, 3, 1, 1),
            persistent=False,
        )

        self.conv1 = QConvBN(float_model.conv1, _copy_bn(float_model.bn1), input_scale=float_model.input_scale)

        wrap = QBottleneck if block_type(self.config["depth"]) is Bottleneck else QBasicBlock
        for stage in ("layer1", "layer2", "layer3", "layer4"):
            blocks = [wrap(_copy_block(block)) for block in getattr(float_model, stage)]
            setattr(self, stage, nn.Sequential(*blocks))
        self.avgpool = QAvgPool()
        self.fc = QLinear(float_model.fc)
        self._graph = None

    @classmethod
    def from_float(cls, float_model):
        return cls(float_model)

    @classmethod
    def from_config(cls, config):
        """Build an untrained QResNet with the architecture in `config` (for
        loading a checkpoint's state_dict)."""
        return cls(ResNet(**config))

    def freeze_bn(self, frozen=True):
        """Use the running statistics (folded form) from now on, also in training."""
        for module in self.modules():
            if isinstance(module, QConvBN):
                module.bn_frozen.fill_(bool(frozen))

    def convs(self):
        return [m for m in self.modules() if isinstance(m, QConvBN)]

    def activation_quantizers(self):
        return [m for m in self.modules() if isinstance(m, ActivationQuantizer)]

    def graph(self):
        """Return (ops, values): the integer graph in execution order."""
        if self._graph is None:
            self._graph = self._build_graph()
        return self._graph

    def _build_graph(self):
        ops: List[GraphOp] = []
        values: List[GraphValue] = [GraphValue(U8, 3, None)]

        def add(kind, name, module, source, dtype, channels, quantizer, residual=None):
            values.append(GraphValue(dtype, channels, quantizer))
            ops.append(GraphOp(kind, name, module, source, len(values) - 1, residual))
            return len(values) - 1

        def add_conv(name, conv, source, residual=None):
            dtype = I8 if conv.out_quant.signed else U8
            return add("conv", name, conv, source, dtype, conv.out_channels, conv.out_quant, residual)

        current = add_conv("conv1", self.conv1, 0)
        current = add("maxpool", "maxpool", None, current, U8, self.conv1.out_channels, self.conv1.out_quant)

        for stage in ("layer1", "layer2", "layer3", "layer4"):
            for index, block in enumerate(getattr(self, stage)):
                prefix = f"{stage}.{index}"
                block_input = current
                convs = block.convs()
                for k, conv in enumerate(convs[:-1]):
                    current = add_conv(f"{prefix}.conv{k + 1}", conv, current)
                shortcut = block_input
                if block.downsample is not None:
                    shortcut = add_conv(f"{prefix}.downsample", block.downsample, block_input)
                current = add_conv(f"{prefix}.conv{len(convs)}", convs[-1], current, residual=shortcut)

        channels = values[current].channels
        current = add("avgpool", "avgpool", self.avgpool, current, U8, channels, self.avgpool.out_quant)
        add("fc", "fc", self.fc, current, I32, self.fc.weight.shape[0], None)
        return ops, values

    def image_input(self, x):
        """Return the first layer's input QAct: t = x - z with step 1."""
        return QAct(x - self.input_zero_point, torch.ones((), dtype=x.dtype, device=x.device))

    def run_op(self, op, values, integer_logits=False):
        """Run one operator on QActs (a list or dict indexed by value) and return its output."""
        source = values[op.input]
        if op.kind == "conv":
            residual = values[op.residual] if op.residual is not None else None
            return op.module(source, residual)
        if op.kind == "maxpool":
            pooled = F.max_pool2d(source.q, MAXPOOL_KERNEL, MAXPOOL_STRIDE, MAXPOOL_PADDING)
            return QAct(pooled, source.step)
        if op.kind == "avgpool":
            return op.module(source)
        if op.kind == "fc":
            return op.module(source, integer_logits=integer_logits)
        raise ValueError(f"unknown operator kind {op.kind}")

    def forward(self, x, integer_logits=False):
        """Return the real logits for uint8-valued NCHW input."""
        ops, _ = self.graph()
        values = {0: self.image_input(x)}
        remaining_uses = _use_counts(ops)
        for op in ops:
            values[op.output] = self.run_op(op, values, integer_logits)
            for used in (op.input, op.residual):
                if used is not None:
                    remaining_uses[used] -= 1
                    if remaining_uses[used] == 0:
                        del values[used]
        return values[ops[-1].output]


def _use_counts(ops):
    counts = {}
    for op in ops:
        for used in (op.input, op.residual):
            if used is not None:
                counts[used] = counts.get(used, 0) + 1
    return counts


def _copy_bn(bn):
    """Return a copy of an FP32 batch norm, so that QAT leaves the FP32 model untouched."""
    return copy.deepcopy(bn)


def _copy_block(block):
    return copy.deepcopy(block)
