"""The recipes that combine trained checkpoints: ensemble.py and soup.py."""

import importlib.util
from pathlib import Path

import pytest
import torch

from picotag_train.resnet import ResNet
from picotag_train.training import load_checkpoint, save_checkpoint

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
PREPROCESS = {"input_height": 32, "input_width": 32, "resize_mode": 2, "resize_short": 0, "interpolation": 1}


def load_recipe(name):
    spec = importlib.util.spec_from_file_location(name, RECIPES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def random_resnet(depth, width, seed):
    """A ResNet with random weights and random batch-norm statistics and affine terms."""
    torch.manual_seed(seed)
    model = ResNet(depth, 5, width)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(-1.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
        model.fc.bias.uniform_(-1, 1)
    return model.eval()


def write_members(tmp_path, depth, width, count):
    paths, models = [], []
    for index in range(count):
        model = random_resnet(depth, width, seed=index)
        path = tmp_path / f"member{index}.pt"
        save_checkpoint(path, "fp32", model, PREPROCESS, labels=[f"c{i}" for i in range(5)])
        paths.append(str(path))
        models.append(model)
    return paths, models


@pytest.mark.parametrize("depth,width,count", [(18, 4, 3), (50, 2, 2)])
def test_ensemble_outputs_members_mean(tmp_path, depth, width, count):
    paths, members = write_members(tmp_path, depth, width, count)
    out = tmp_path / "joined.pt"
    load_recipe("ensemble").main(paths + ["--out", str(out)])

    joined, checkpoint = load_checkpoint(out)
    joined.eval()
    assert joined.width == width * count
    assert checkpoint["labels"] == [f"c{i}" for i in range(5)]
    assert checkpoint["provenance"]["ensemble_of"] == ", ".join(f"{tmp_path.name}/member{i}.pt" for i in range(count))
    images = torch.randint(0, 256, (3, 3, 40, 40), generator=torch.Generator().manual_seed(7)).float()
    with torch.no_grad():
        expected = torch.stack([member(images) for member in members]).mean(dim=0)
        got = joined(images)
    assert torch.allclose(got, expected, atol=1e-4), (got - expected).abs().max()
    # A member's filters read only that member's channels.
    weight = joined.layer2[0].conv1.weight
    block_out, block_in = weight.shape[0] // count, weight.shape[1] // count
    assert torch.count_nonzero(weight[:block_out, block_in:]) == 0
    assert torch.count_nonzero(weight[block_out:, :block_in]) == 0


def test_ensemble_rejects_bad_checkpoints(tmp_path):
    ensemble = load_recipe("ensemble")
    paths, _ = write_members(tmp_path, 18, 4, 2)
    wider = tmp_path / "wider.pt"
    save_checkpoint(wider, "fp32", random_resnet(18, 8, seed=3), PREPROCESS)
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    model_file = tmp_path / "model.ptm"
    model_file.write_bytes(b"PTM1 stand-in")
    out = str(tmp_path / "joined.pt")
    cases = [
        (paths[:1], "at least two"),
        (paths[:1] + [str(wider)], "width 8 against 4"),
        (paths[:1] + [str(tmp_path / "missing.pt")], "missing.pt"),
        (paths[:1] + [str(text)], "cannot read .*notes.txt as a picotag checkpoint"),
        (paths[:1] + paths[:1], "given twice"),
        (paths[:1] + [str(tmp_path)], "give the checkpoint inside it"),
        (paths[:1] + [str(model_file)], "model.ptm is a model file"),
    ]
    for inputs, message in cases:
        with pytest.raises(SystemExit, match=message):
            ensemble.main(inputs + ["--out", out])
    with pytest.raises(SystemExit, match="does not exist"):
        ensemble.main(paths + ["--out", str(tmp_path / "no-such-folder" / "joined.pt")])
    assert not (tmp_path / "joined.pt").exists()


def test_soup_averages_weights(tmp_path):
    paths, members = write_members(tmp_path, 18, 4, 2)
    out = tmp_path / "soup.pt"
    load_recipe("soup").main(paths + ["--out", str(out)])
    soup, _ = load_checkpoint(out)
    expected = (members[0].conv1.weight + members[1].conv1.weight) / 2
    assert torch.allclose(soup.conv1.weight, expected)

    assert torch.allclose(soup.bn1.running_var, (members[0].bn1.running_var + members[1].bn1.running_var) / 2)
