"""FP32 ResNet: torchvision's state_dict layout and the uint8 input convention."""

import pytest
import torch
import torchvision

from picotag_train.resnet import ResNet, arch_name, input_zero_points

TORCHVISION = {18: torchvision.models.resnet18, 34: torchvision.models.resnet34, 50: torchvision.models.resnet50}


@pytest.mark.parametrize("depth", [18, 34, 50])
def test_state_dict_layout_equals_torchvision(depth):
    ours = ResNet(depth, num_classes=7).state_dict()
    theirs = TORCHVISION[depth](num_classes=7).state_dict()
    assert list(ours) == list(theirs)
    for key in theirs:
        assert ours[key].shape == theirs[key].shape, key


@pytest.mark.parametrize("depth,features", [(18, 128), (34, 128), (50, 512)])
def test_width_scales_every_stage(depth, features):
    model = ResNet(depth, num_classes=3, width=16)
    assert model.conv1.out_channels == 16
    assert model.fc.in_features == features
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 3)


def test_bottleneck_stride_on_3x3_conv():
    model = ResNet(50, width=8)
    block = model.layer2[0]
    assert block.conv1.stride == (1, 1)
    assert block.conv2.stride == (2, 2)


def test_forward_normalises_with_rounded_zero_points():
    ours = ResNet(18, num_classes=4, width=8)
    x = torch.randint(0, 256, (2, 3, 32, 32)).float()

    zero = torch.tensor([124.0, 116.0, 104.0]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    assert input_zero_points((0.485, 0.456, 0.406)) == [124, 116, 104]

    normalised = (x - zero) / (255 * std)
    torch.testing.assert_close(ours.normalize(x), normalised, rtol=1e-5, atol=1e-5)


def test_invalid_arguments_rejected():
    with pytest.raises(ValueError, match="depth 101"):
        ResNet(101)
    with pytest.raises(ValueError, match="width"):
        ResNet(18, width=0)
    with pytest.raises(ValueError, match="std"):
        ResNet(18, std=(0.2, 0.0, 0.2))


def test_arch_name():
    assert arch_name(18, 64) == "resnet18"
    assert arch_name(50, 32) == "resnet50-w32"


def test_qat_stem_weights_absorb_input_scale():
    from picotag_train.qat import QResNet

    model = ResNet(18, num_classes=2, width=8)
    qmodel = QResNet.from_float(model)
    expected = model.conv1.weight / (255 * torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
    torch.testing.assert_close(qmodel.conv1.real_weight(), expected)
    torch.testing.assert_close(qmodel.conv1.weight, model.conv1.weight, msg="the parameter stays in FP32 units")
    assert qmodel.zero_points == [124, 116, 104]
