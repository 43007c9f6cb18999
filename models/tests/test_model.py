import math

import torch

from models.model import ItemTower, QueryTower, in_batch_nce


def test_towers_give_unit_vectors_of_the_configured_width():
    torch.manual_seed(0)
    text, image = torch.randn(5, 128), torch.randn(5, 128)
    for mode in ItemTower.MODES:
        e = ItemTower(128, 128, 64, heads=4, mode=mode)(text, image)
        assert e.shape == (5, 64), mode
        torch.testing.assert_close(e.norm(dim=-1), torch.ones(5))
    assert QueryTower(128, 64)(torch.randn(3, 128)).shape == (3, 64)


def test_fusion_uses_both_modalities_and_text_mode_ignores_the_image():
    torch.manual_seed(0)
    text, image = torch.randn(4, 128), torch.randn(4, 128)
    other = torch.randn(4, 128)
    fusion = ItemTower(128, 128, 64, mode="fusion").eval()
    text_only = ItemTower(128, 128, 64, mode="text").eval()
    assert not torch.allclose(fusion(text, image), fusion(text, other))
    torch.testing.assert_close(text_only(text, image), text_only(text, other))


def test_in_batch_nce_masks_repeated_items():
    q = torch.eye(3)
    e = torch.eye(3)
    # Perfect alignment with distinct items: loss → ~0 at a low temperature.
    assert in_batch_nce(q, e, torch.tensor([0, 1, 2]), 0.01).item() < 1e-6
    # Rows 0 and 1 are the same item: row 1 must not count as a negative of row 0.
    e2 = torch.stack([torch.tensor([1.0, 0, 0]), torch.tensor([1.0, 0, 0]), torch.tensor([0, 0, 1.0])])
    masked = in_batch_nce(q[[0, 0, 2]], e2, torch.tensor([7, 7, 9]), 0.05).item()
    unmasked = in_batch_nce(q[[0, 0, 2]], e2, torch.tensor([7, 8, 9]), 0.05).item()
    # Unmasked, rows 0 and 1 each split their mass over two equal logits: mean loss = (2/3)·log 2.
    assert masked < 1e-6 and abs(unmasked - 2 / 3 * math.log(2)) < 1e-3
