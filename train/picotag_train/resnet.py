"""FP32 ResNet-18/34/50 with torchvision's state_dict layout and uint8 input.

The parameter and buffer names are exactly those of torchvision.models
(v1.5: in a Bottleneck the stride sits on the 3x3 convolution), so a
torchvision checkpoint loads with `load_state_dict(strict=True)`. Two
additions do not appear in the state_dict: a base width (64 in torchvision;
narrower networks train and test faster) and the input normalisation.

The input is a float tensor NCHW holding uint8 RGB values 0..255. The
network computes t = x - z with the integer zero points z_c = rhu(255 mean_c)
and then t / (255 std_c), which is what the integer engine does: the zero
points are the first convolution's input zero points and 1 / (255 std_c)
is folded into its weights.
"""

import math

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Blocks per stage for each supported depth.
STAGE_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3)}


def input_zero_points(mean):
    """Return the uint8 zero points rhu(255 * mean_c) as a list of ints."""
    return [int(math.floor(255.0 * float(m) + 0.5)) for m in mean]


def block_type(depth):
    """Return BasicBlock for depths 18 and 34 and Bottleneck for 50."""
    if depth not in STAGE_BLOCKS:
        raise ValueError(f"unsupported ResNet depth {depth}; expected one of 18, 34, 50")
    return Bottleneck if depth == 50 else BasicBlock


def conv3x3(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(in_channels, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + shortcut)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(in_channels, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + shortcut)


class ResNet(nn.Module):
    """ResNet-18/34/50 over uint8-valued RGB input.

    `width` is the channel count of the stem; the four stages have width,
    2 width, 4 width and 8 width planes (times 4 at the output of a
    Bottleneck). torchvision's networks have width 64.
    """

    def __init__(self, depth=18, num_classes=80, width=64, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        super().__init__()
        block = block_type(depth)
        if width < 1:
            raise ValueError(f"base width must be positive, got {width}")
        if num_classes < 1:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f"mean and std need 3 entries each and std > 0, got {mean}, {std}")

        self.depth = depth
        self.width = width
        self.num_classes = num_classes
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

        # Not in the state_dict, so that torchvision checkpoints load strictly.
        zero_points = torch.tensor(input_zero_points(self.mean), dtype=torch.float32)
        inverse_std = torch.tensor([1.0 / (255.0 * s) for s in self.std], dtype=torch.float32)
        self.register_buffer("input_zero_point", zero_points.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("input_scale", inverse_std.view(1, 3, 1, 1), persistent=False)

        self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)

        self._in_channels = width
        blocks = STAGE_BLOCKS[depth]
        self.layer1 = self._make_stage(block, width, blocks[0], 1)
        self.layer2 = self._make_stage(block, width * 2, blocks[1], 2)
        self.layer3 = self._make_stage(block, width * 4, blocks[2], 2)
        self.layer4 = self._make_stage(block, width * 8, blocks[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

        self._init_weights()

    def _make_stage(self, block, planes, count, stride):
        downsample = None
        if stride != 1 or self._in_channels != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self._in_channels, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self._in_channels, planes, stride, downsample)]
        self._in_channels = planes * block.expansion
        for _ in range(1, count):
            layers.append(block(self._in_channels, planes))
        return nn.Sequential(*layers)

    def _init_weights(self):
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def config(self):
        """Return the constructor arguments, for checkpoints."""
        return {
            "depth": self.depth,
            "num_classes": self.num_classes,
            "width": self.width,
            "mean": list(self.mean),
            "std": list(self.std),
        }

    def normalize(self, x):
        """Map uint8-valued RGB input to the network's first-layer input."""
        return (x - self.input_zero_point) * self.input_scale

    def features(self, x):
        """Return the pooled features (N, C) of uint8-valued input."""
        x = self.normalize(x)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x):
        return self.fc(self.features(x))


def arch_name(depth, width):
    """Return the META `arch` string, e.g. resnet18 or resnet50-w32."""
    name = f"resnet{depth}"
    return name if width == 64 else f"{name}-w{width}"
