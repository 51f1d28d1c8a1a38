"""Multi-label losses over logits (N, K) and targets in 0..1 (soft targets allowed).

Both losses sum over classes and average over the batch, so their scales
are comparable when switching between them.
"""

import torch
import torch.nn.functional as F


def bce_loss(logits, targets):
    """Binary cross-entropy with logits, summed over classes, mean over the batch."""
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return loss.sum(1).mean()


def asymmetric_loss(logits, targets, gamma_neg=4.0, gamma_pos=0.0, clip=0.05, eps=1e-8):
    """Asymmetric loss (Ridnik et al., "Asymmetric Loss For Multi-Label
    Classification", ICCV 2021).

    With p = sigmoid(x) and the shifted probability p_m = max(p - clip, 0):

        L+ = (1 - p)^gamma_pos log(p)
        L- = p_m^gamma_neg log(1 - p_m)
        loss = -sum_k [y_k L+ + (1 - y_k) L-]

    Soft targets weight the two terms. With gamma_neg = gamma_pos = 0 and
    clip = 0 this is binary cross-entropy.
    """
    probability = torch.sigmoid(logits)
    log_p = F.logsigmoid(logits)

    if clip > 0:
        # 1 - p_m = min(1 - p + clip, 1); sigmoid(-x) is 1 - p without cancellation.
        one_minus_shifted = torch.clamp(torch.sigmoid(-logits) + clip, max=1.0)
        log_one_minus_shifted = torch.log(one_minus_shifted.clamp(min=eps))
        shifted = 1.0 - one_minus_shifted
    else:
        log_one_minus_shifted = F.logsigmoid(-logits)
        shifted = probability

    positive = log_p
    negative = log_one_minus_shifted
    if gamma_pos > 0:
        positive = positive * (1.0 - probability).pow(gamma_pos)
    if gamma_neg > 0:
        negative = negative * shifted.pow(gamma_neg)

    loss = -(targets * positive + (1.0 - targets) * negative)
    return loss.sum(1).mean()


def make_loss(name, gamma_neg=4.0, gamma_pos=0.0, clip=0.05):
    """Return a loss function by name: 'bce' or 'asl'."""
    if name == "bce":
        return bce_loss
    if name == "asl":
        return lambda logits, targets: asymmetric_loss(logits, targets, gamma_neg, gamma_pos, clip)
    raise ValueError(f"unknown loss {name!r}; use 'bce' or 'asl'")
