"""torchvision ResNet checkpoints: loading, architecture inference and conversion to a .ptm."""

import numpy as np
import pytest
import torch
import torchvision

from picotag_train import intref
from picotag_train.calibrate import calibrate
from picotag_train.export import default_preprocess, export_model
from picotag_train.torchvision_import import CheckpointError, infer_architecture, load_torchvision_resnet
from random_models import random_images, to_hwc_uint8

TORCHVISION = {18: torchvision.models.resnet18, 34: torchvision.models.resnet34, 50: torchvision.models.resnet50}


def randomized_torchvision(depth, classes=5, seed=0):
    torch.manual_seed(seed)
    model = TORCHVISION[depth](num_classes=classes)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.2)
                module.running_mean.normal_(0, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.mark.parametrize("depth", [18, 34, 50])
def test_architecture_inferred_from_state_dict(depth):
    state = TORCHVISION[depth](num_classes=5).state_dict()
    assert infer_architecture(state) == (depth, 64, 5)


@pytest.mark.parametrize("depth", [18, 50])
def test_loaded_model_computes_torchvisions_function(depth):
    reference = randomized_torchvision(depth)
    ours = load_torchvision_resnet({"state_dict": reference.state_dict()}).eval()
    x = random_images(2, 64, 64, seed=depth)
    with torch.no_grad():
        expected = reference(ours.normalize(x))
        actual = ours(x)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)


def test_checkpoint_wrappers_and_dataparallel_prefix():
    state = torchvision.models.resnet18(num_classes=3).state_dict()
    wrapped = {"model": {f"module.{k}": v for k, v in state.items()}, "epoch": 4}
    model = load_torchvision_resnet(wrapped)
    assert (model.depth, model.width, model.num_classes) == (18, 64, 3)


def test_missing_parameter_is_named():
    state = torchvision.models.resnet18(num_classes=3).state_dict()
    del state["layer2.0.bn1.running_var"]
    with pytest.raises(CheckpointError, match="layer2.0.bn1.running_var"):
        load_torchvision_resnet(state)


def test_wrong_shape_is_named():
    state = torchvision.models.resnet18(num_classes=3).state_dict()
    state["layer1.0.conv2.weight"] = torch.zeros(64, 64, 5, 5)
    with pytest.raises(CheckpointError, match="layer1.0.conv2.weight"):
        load_torchvision_resnet(state)


def test_other_architectures_rejected():
    with pytest.raises(CheckpointError, match="match none"):
        load_torchvision_resnet(torchvision.models.resnet101(num_classes=3).state_dict())
    with pytest.raises(CheckpointError, match="conv1.weight"):
        load_torchvision_resnet({"fc.weight": torch.zeros(2, 2)})
    with pytest.raises(CheckpointError, match="expected a dict"):
        load_torchvision_resnet([1, 2])


@pytest.mark.parametrize("depth", [18, 34, 50])
def test_converted_model_runs_in_engine_like_intref(engine, tmp_path, depth):
    size = 32
    float_model = load_torchvision_resnet(randomized_torchvision(depth, seed=depth).state_dict())
    calibration = list(random_images(4, size, size, seed=1).split(2))
    qmodel = calibrate(float_model, calibration)
    path = tmp_path / f"resnet{depth}.ptm"
    model_file = export_model(path, qmodel, preprocess=default_preprocess(size), quantization="ptq-calibrated")
    assert model_file.meta["arch"] == f"resnet{depth}"

    with engine.load(path) as loaded, loaded.runner(size, size) as runner:
        for image in random_images(2, size, size, seed=50 + depth):
            image = to_hwc_uint8(image)
            expected = intref.run(model_file, image).logits
            assert len(np.unique(expected)) == 5, f"logits collapse: {expected}"
            np.testing.assert_array_equal(runner.run(image), expected)
