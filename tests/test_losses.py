"""Loss tests: Dice + focal, the TLVR soft-label term (paper eqs. 2-6) and the VAE term."""

from __future__ import annotations

import math

import pytest
import torch
from monai.losses.dice import DiceLoss
from monai.losses.focal_loss import FocalLoss

from smoothseg.models import build_model, preset_config
from smoothseg.training import (
    KnowledgeInformedLoss,
    LossConfig,
    LossInputError,
    SegmentationLoss,
    predicted_tlvr,
)

SHAPE = (6, 5, 4)


def make_batch(batch: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits [B, 3, *SHAPE] and labels [B, 1, *SHAPE] with liver (1) and tumor (2) in each."""
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn((batch, 3, *SHAPE), generator=gen)
    target = torch.zeros((batch, 1, *SHAPE), dtype=torch.long)
    for b in range(batch):
        target[b, 0, 1 : 4 + b % 2, 1:4, :3] = 1
        target[b, 0, 2 : 3 + b, 2:3, 1:2] = 2
    return logits, target


def test_predicted_tlvr_by_hand() -> None:
    probs = torch.zeros(1, 3, 2, 1, 1)
    probs[0, :, 0, 0, 0] = torch.tensor([0.2, 0.6, 0.2])
    probs[0, :, 1, 0, 0] = torch.tensor([0.1, 0.1, 0.8])
    r = predicted_tlvr(probs, eps=0.0)
    assert r.shape == (1,)
    assert r.item() == pytest.approx(1.0 / 1.7)
    only_first = torch.tensor([[[[True]], [[False]]]])
    assert predicted_tlvr(probs, only_first, eps=0.0).item() == pytest.approx(0.25)
    assert predicted_tlvr(torch.zeros(1, 3, 2, 1, 1)).item() == 0.0  # eps keeps it finite


def test_predicted_tlvr_comes_from_softmax_probabilities() -> None:
    # Every voxel has logits (0, 0, log 3): softmax (1/5, 1/5, 3/5) → R̂ = 3/4.
    logits = torch.zeros(1, 3, 2, 2, 2)
    logits[:, 2] = math.log(3.0)
    target = torch.ones(1, 1, 2, 2, 2, dtype=torch.long)
    loss = KnowledgeInformedLoss(LossConfig(tlvr_eps=1e-12))
    terms = loss.compute(logits, target, soft_tlvr=torch.tensor([0.5]))
    assert terms.predicted_tlvr is not None
    assert terms.predicted_tlvr.item() == pytest.approx(0.75)
    # Doubling the logits gives softmax (1, 1, 9)/11 → R̂ = 9/10, not a linear rescaling.
    doubled = loss.compute(2 * logits, target, soft_tlvr=torch.tensor([0.5]))
    assert doubled.predicted_tlvr is not None
    assert doubled.predicted_tlvr.item() == pytest.approx(0.9)
    assert doubled.tlvr.item() == pytest.approx((0.9 - 0.5) ** 2)
    with pytest.raises(LossInputError, match="softmax"):
        predicted_tlvr(2 * logits)


def test_tlvr_gradient_reaches_the_logits() -> None:
    logits, target = make_batch(batch=2)
    logits = logits.double().requires_grad_()
    soft = torch.tensor([0.05, 0.3], dtype=torch.double)
    only_tlvr = KnowledgeInformedLoss(LossConfig(lambda_focal=0.0, lambda_dice=0.0, alpha=1.0))
    terms = only_tlvr.compute(logits, target, soft_tlvr=soft)
    terms.total.backward()
    assert logits.grad is not None
    assert torch.isfinite(logits.grad).all()
    assert logits.grad.abs().sum() > 0
    # Outside the ground-truth liver region the TLVR term has no gradient.
    outside = (target == 0).expand_as(logits)
    assert torch.all(logits.grad[outside] == 0)

    small = logits.detach()[:, :, :3, :3, :2].clone().requires_grad_()
    small_target = target[:, :, :3, :3, :2]

    def tlvr_total(x: torch.Tensor) -> torch.Tensor:
        return only_tlvr.compute(x, small_target, soft_tlvr=soft).total

    assert torch.autograd.gradcheck(tlvr_total, (small,), eps=1e-6, atol=1e-5)


def test_alpha_zero_is_exactly_dice_plus_focal() -> None:
    logits, target = make_batch()
    config = LossConfig(alpha=0.0, lambda_focal=0.7, lambda_dice=1.3)
    soft = torch.tensor([0.1, 0.2, 0.3])
    ki = KnowledgeInformedLoss(config).compute(logits, target, soft_tlvr=soft)
    plain = SegmentationLoss(config).compute(logits, target)
    dice = DiceLoss(to_onehot_y=True, softmax=True, squared_pred=True, include_background=False)
    focal = FocalLoss(to_onehot_y=True, use_softmax=True, gamma=2.0)
    expected = 0.7 * focal(logits, target) + 1.3 * dice(logits, target)
    assert torch.equal(ki.total, plain.total)
    assert torch.equal(ki.total, expected)
    assert ki.tlvr.item() > 0  # still reported for logging, not added


def test_soft_label_term_is_added_with_alpha() -> None:
    logits, target = make_batch()
    soft = torch.tensor([0.1, 0.2, 0.3])
    terms = KnowledgeInformedLoss().compute(logits, target, soft_tlvr=soft)
    hard = SegmentationLoss().compute(logits, target)
    assert terms.predicted_tlvr is not None
    expected_tlvr = ((terms.predicted_tlvr - soft) ** 2).mean()
    assert terms.tlvr.item() == pytest.approx(expected_tlvr.item())
    assert terms.total.item() == pytest.approx(hard.total.item() + 0.5 * expected_tlvr.item())


def test_per_sample_alignment_with_batch_of_three() -> None:
    logits, target = make_batch(batch=3)
    soft = torch.tensor([0.05, float("nan"), 0.4])
    has = torch.tensor([True, False, True])
    loss = KnowledgeInformedLoss()
    terms = loss.compute(logits, target, soft_tlvr=soft, has_soft_label=has)
    assert terms.predicted_tlvr is not None
    assert terms.tlvr_used is not None
    assert terms.tlvr_used.tolist() == [True, False, True]

    # Each sample is compared with its own label: same as evaluating the samples one by one.
    singles = [
        loss.compute(logits[i : i + 1], target[i : i + 1], soft_tlvr=soft[i : i + 1]).tlvr
        for i in (0, 2)
    ]
    assert terms.tlvr.item() == pytest.approx(torch.stack(singles).mean().item())
    assert terms.predicted_tlvr[0].item() != pytest.approx(terms.predicted_tlvr[2].item())

    # Permuting the batch (images, targets and labels together) permutes the per-sample terms.
    perm = torch.tensor([2, 0, 1])
    permuted = loss.compute(
        logits[perm], target[perm], soft_tlvr=soft[perm], has_soft_label=has[perm]
    )
    assert permuted.predicted_tlvr is not None
    assert permuted.tlvr_used is not None
    assert torch.allclose(permuted.predicted_tlvr, terms.predicted_tlvr[perm])
    assert torch.equal(permuted.tlvr_used, terms.tlvr_used[perm])
    assert permuted.tlvr.item() == pytest.approx(terms.tlvr.item())
    assert permuted.total.item() == pytest.approx(terms.total.item())

    # Labels not permuted with their images give a different term.
    misaligned = loss.compute(logits[perm], target[perm], soft_tlvr=soft, has_soft_label=has)
    assert misaligned.tlvr.item() != pytest.approx(terms.tlvr.item())


def test_missing_soft_labels_are_skipped_without_nan() -> None:
    logits, target = make_batch(batch=3)
    logits.requires_grad_()
    loss = KnowledgeInformedLoss()
    hard = SegmentationLoss().compute(logits, target)

    none = loss.compute(logits, target, soft_tlvr=torch.full((3,), float("nan")))
    assert none.tlvr.item() == 0.0
    assert torch.equal(none.total, hard.total)
    assert loss.compute(logits, target).tlvr.item() == 0.0  # no soft labels at all

    some = loss.compute(logits, target, soft_tlvr=torch.tensor([0.2, float("nan"), 0.1]))
    assert some.tlvr_used is not None
    assert some.tlvr_used.tolist() == [True, False, True]
    some.total.backward()
    assert logits.grad is not None
    assert torch.isfinite(logits.grad).all()


def test_samples_without_liver_are_skipped() -> None:
    logits, target = make_batch(batch=2)
    target[1] = 0
    terms = KnowledgeInformedLoss().compute(logits, target, soft_tlvr=torch.tensor([0.2, 0.3]))
    assert terms.tlvr_used is not None
    assert terms.tlvr_used.tolist() == [True, False]


def test_region_choice_label_versus_crop() -> None:
    logits, target = make_batch(batch=1)
    changed = logits.clone()
    changed[:, 2:3][target == 0] += 5.0  # more tumor probability outside the liver
    label = KnowledgeInformedLoss()
    crop = KnowledgeInformedLoss(LossConfig(tlvr_region="crop"))
    soft = torch.tensor([0.2])

    def r_hat(loss: KnowledgeInformedLoss, x: torch.Tensor) -> float:
        value = loss.compute(x, target, soft_tlvr=soft).predicted_tlvr
        assert value is not None
        return float(value)

    assert r_hat(label, changed) == pytest.approx(r_hat(label, logits))
    assert r_hat(crop, changed) != pytest.approx(r_hat(crop, logits))


def test_vae_term_weighted_into_total() -> None:
    logits, target = make_batch()
    vae = torch.tensor(2.0)
    with_vae = SegmentationLoss().compute(logits, target, vae_loss=vae)
    without = SegmentationLoss().compute(logits, target)
    assert with_vae.vae.item() == 2.0
    assert with_vae.total.item() == pytest.approx(without.total.item() + 0.1 * 2.0)
    assert with_vae.as_floats()["vae"] == 2.0


def test_segresnetvae_training_step_end_to_end() -> None:
    config = preset_config("segresnetvae", "cpu-small", roi_size=(32, 32, 16))
    model = build_model(config, seed=0).train()
    image = torch.randn(2, 1, 32, 32, 16, generator=torch.Generator().manual_seed(0))
    target = torch.zeros(2, 1, 32, 32, 16, dtype=torch.long)
    target[:, :, 8:24, 8:24, 4:12] = 1
    target[:, :, 12:16, 12:16, 6:8] = 2
    logits, vae = model.forward_with_aux(image)
    terms = KnowledgeInformedLoss().compute(
        logits,
        target,
        vae_loss=vae,
        soft_tlvr=torch.tensor([0.03, 0.0]),
        has_soft_label=torch.tensor([True, False]),
    )
    terms.total.backward()
    assert all(math.isfinite(v) for v in terms.as_floats().values())
    assert terms.vae.item() > 0
    assert all(p.grad is not None for p in model.parameters())


def test_bad_inputs_are_clear_errors() -> None:
    logits, target = make_batch(batch=2)
    loss = KnowledgeInformedLoss()
    with pytest.raises(LossInputError, match="shape"):
        loss.compute(logits, target, soft_tlvr=torch.tensor([0.1, 0.2, 0.3]))
    with pytest.raises(LossInputError, match="not finite"):
        loss.compute(
            logits,
            target,
            soft_tlvr=torch.tensor([0.1, float("nan")]),
            has_soft_label=torch.tensor([True, True]),
        )
    with pytest.raises(LossInputError, match="labels"):
        loss.compute(logits, target + 5)
    with pytest.raises(LossInputError, match=">= 0"):
        LossConfig(alpha=-1.0)
    # [B, *spatial] targets are accepted too.
    squeezed = loss.compute(logits, target[:, 0], soft_tlvr=torch.tensor([0.1, 0.2]))
    assert squeezed.total.item() == pytest.approx(
        loss.compute(logits, target, soft_tlvr=torch.tensor([0.1, 0.2])).total.item()
    )


def test_loss_registry_picks_the_knowledge_informed_loss_wherever_alpha_is_positive() -> None:
    from smoothseg.training import LOSSES, build_loss, loss_name

    assert LOSSES.names() == ["dice_focal", "knowledge_informed"]
    assert type(build_loss(LossConfig(alpha=0.5), classes=3)) is KnowledgeInformedLoss
    assert type(build_loss(LossConfig(alpha=0.0), classes=3)) is SegmentationLoss
    # the liver model has no tumor class: no TLVR term whatever α says
    assert loss_name(LossConfig(alpha=0.5), classes=2) == "dice_focal"
    named = LossConfig(name="knowledge_informed", alpha=0.0)
    assert type(build_loss(named, classes=3)) is KnowledgeInformedLoss
    with pytest.raises(LossInputError, match="needs a tumor class"):
        build_loss(named, classes=2)
    with pytest.raises(LossInputError, match="valid: auto, dice_focal, knowledge_informed"):
        LossConfig(name="mse")
    with pytest.raises(LossInputError, match="no TLVR term"):
        LossConfig(name="dice_focal", alpha=0.5)


def test_every_registered_loss_takes_the_same_arguments() -> None:
    from smoothseg.training import LOSSES

    logits, target = make_batch()
    soft = torch.tensor([0.1, 0.2, 0.3])
    for spec in LOSSES.specs():
        name = spec.name
        terms = spec.build(LossConfig(alpha=0.5 if name == "knowledge_informed" else 0.0)).compute(
            logits, target, vae_loss=None, soft_tlvr=soft
        )
        assert math.isfinite(float(terms.total)), name
    plain = SegmentationLoss(LossConfig(alpha=0.0))
    assert float(plain.compute(logits, target, soft_tlvr=soft).tlvr) == 0.0


def test_class_weights_weigh_the_focal_term_only() -> None:
    logits, target = make_batch()
    plain = SegmentationLoss(LossConfig(alpha=0.0)).compute(logits, target)
    weighted = SegmentationLoss(LossConfig(alpha=0.0, class_weights=(1.0, 1.0, 3.0)))
    terms = weighted.compute(logits, target)
    want = FocalLoss(to_onehot_y=True, use_softmax=True, weight=[1.0, 1.0, 3.0])(logits, target)
    assert float(terms.focal) == pytest.approx(float(want))
    assert float(terms.focal) > float(plain.focal)
    assert float(terms.dice) == pytest.approx(float(plain.dice))
    with pytest.raises(LossInputError, match="class_weights"):
        LossConfig(class_weights=(1.0, 0.0, 2.0))
