"""BCE and the asymmetric loss."""

import torch
import torch.nn.functional as F

from picotag_train.losses import asymmetric_loss, bce_loss, make_loss


def test_bce_sums_over_classes_and_averages_over_batch():
    logits = torch.tensor([[0.3, -1.2, 2.0], [1.0, 0.0, -0.5]])
    targets = torch.tensor([[1.0, 0.0, 0.3], [0.0, 1.0, 1.0]])
    expected = F.binary_cross_entropy_with_logits(logits, targets, reduction="sum") / 2
    assert torch.allclose(bce_loss(logits, targets), expected)


def test_asl_without_focusing_or_clip_is_bce():
    torch.manual_seed(0)
    logits = 4 * torch.randn(8, 5)
    targets = torch.rand(8, 5)
    assert torch.allclose(asymmetric_loss(logits, targets, 0.0, 0.0, 0.0), bce_loss(logits, targets), atol=1e-6)


def test_asl_clip_discards_easy_negatives():
    # p = sigmoid(-4) = 0.018 < clip 0.05: the shifted probability is 0
    loss = asymmetric_loss(torch.tensor([[-4.0]]), torch.tensor([[0.0]]), gamma_neg=4.0, clip=0.05)
    assert loss.item() == 0.0


def test_asl_down_weights_negatives_more_than_positives():
    logit = torch.tensor([[1.0]])
    negative_asl = asymmetric_loss(logit, torch.tensor([[0.0]]), gamma_neg=4.0, gamma_pos=0.0, clip=0.05)
    negative_bce = bce_loss(logit, torch.tensor([[0.0]]))
    positive_asl = asymmetric_loss(-logit, torch.tensor([[1.0]]), gamma_neg=4.0, gamma_pos=0.0, clip=0.05)
    positive_bce = bce_loss(-logit, torch.tensor([[1.0]]))
    assert negative_asl < 0.5 * negative_bce
    assert torch.allclose(positive_asl, positive_bce)


def test_asl_negative_term_matches_formula():
    x, clip, gamma = 0.7, 0.05, 4.0
    p = torch.sigmoid(torch.tensor(x))
    shifted = torch.clamp(p - clip, min=0)
    expected = -(shifted**gamma) * torch.log(1 - shifted)
    loss = asymmetric_loss(torch.tensor([[x]]), torch.tensor([[0.0]]), gamma_neg=gamma, clip=clip)
    assert torch.allclose(loss, expected, rtol=1e-5)


def test_asl_gradients_finite_at_extreme_logits():
    logits = torch.tensor([[-100.0, 100.0, 0.0]], requires_grad=True)
    loss = asymmetric_loss(logits, torch.tensor([[1.0, 0.0, 0.5]]))
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()


def test_make_loss_rejects_unknown_name():
    try:
        make_loss("focal")
    except ValueError as error:
        assert "focal" in str(error)
    else:
        raise AssertionError("make_loss('focal') must raise")
