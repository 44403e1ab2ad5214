"""Tiny random-weight models in the real on-disk formats: `loomware models init-demo` and the tests share them.

They prove that an installation can load and run every path of the local engine (text-to-image, SDXL with a
refiner, LoRA, textual inversion, ControlNet, a custom VAE) in seconds and without a network. Their images are
noise: the weights are random. Imports torch, so only the init-demo command and tests import this module.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph_runtime.backends.local.catalog import Catalog, ModelEntry

SD15 = "loomware:sd15-demo@1"
SDXL = "loomware:sdxl-demo@1"
SDXL_REFINER = "loomware:sdxl-refiner-demo@1"
LORA_1 = "loomware:lora-demo@1"
LORA_2 = "loomware:lora-demo@2"
EMBEDDING = "loomware:embedding-demo@1"
CONTROLNET = "loomware:controlnet-demo@1"
VAE = "loomware:vae-demo@1"

NOISE_NOTICE = (
    "The demo models have random weights: their images are noise. They prove the installation works, "
    "not the art. Add real models with `loomware models add`."
)


@dataclass(frozen=True)
class DemoModel:
    air: str
    kind: str
    architecture: str
    folder: str  # name inside the kind's subfolder
    file: str | None = None  # single-file models (LoRA, embedding)


DEMO_MODELS: tuple[DemoModel, ...] = (
    DemoModel(SD15, "checkpoint", "sd1.5", "sd15-demo"),
    DemoModel(SDXL, "checkpoint", "sdxl", "sdxl-demo"),
    DemoModel(SDXL_REFINER, "checkpoint", "sdxl", "sdxl-refiner-demo"),
    DemoModel(LORA_1, "lora", "sd1.5", "", "lora-demo-1.safetensors"),
    DemoModel(LORA_2, "lora", "sd1.5", "", "lora-demo-2.safetensors"),
    DemoModel(EMBEDDING, "embedding", "sd1.5", "", "embedding-demo.safetensors"),
    DemoModel(CONTROLNET, "controlnet", "sd1.5", "controlnet-demo"),
    DemoModel(VAE, "vae", "sd1.5", "vae-demo"),
)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table (what CLIP's BPE vocabulary is written in)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars), strict=True))


def write_byte_tokenizer(folder: Path) -> None:
    """A CLIP tokenizer over single bytes (no merges): no tokenizer files ship with transformers."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in _bytes_to_unicode().values():
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")


def _tokenizer(folder: Path) -> Any:
    from transformers import CLIPTokenizer

    write_byte_tokenizer(folder)
    return CLIPTokenizer.from_pretrained(folder, model_max_length=77)


def _text_config(**extra: Any) -> Any:
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=5,
        vocab_size=1000,
        projection_dim=32,
        **extra,
    )


def _vae() -> Any:
    from diffusers import AutoencoderKL

    # Four blocks shrink by 8 like a real SD VAE, so sizes and latents behave as with real models.
    return AutoencoderKL(
        block_out_channels=[32, 64, 64, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        latent_channels=4,
    )


def _scheduler() -> Any:
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000, steps_offset=1
    )


_UNET_BASE: dict[str, Any] = {
    "block_out_channels": (32, 64),
    "layers_per_block": 2,
    "sample_size": 32,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
}
_SDXL_UNET: dict[str, Any] = {
    **_UNET_BASE,
    "attention_head_dim": (2, 4),
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 8,
    "transformer_layers_per_block": (1, 2),
}


def _sd15_unet() -> Any:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(**_UNET_BASE, cross_attention_dim=32)


def build_sd15(folder: Path) -> Any:
    from diffusers import StableDiffusionPipeline
    from transformers import CLIPTextModel

    pipe = StableDiffusionPipeline(
        vae=_vae(),
        text_encoder=CLIPTextModel(_text_config()),
        tokenizer=_tokenizer(folder / "tokenizer"),
        unet=_sd15_unet(),
        scheduler=_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return pipe


def build_sdxl(base_folder: Path, refiner_folder: Path) -> None:
    from diffusers import StableDiffusionXLImg2ImgPipeline, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    tokenizer = _tokenizer(base_folder / "tokenizer")
    tokenizer_2 = _tokenizer(base_folder / "tokenizer_2")
    text_encoder_2 = CLIPTextModelWithProjection(_text_config())
    vae = _vae()
    base = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(_text_config()),
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        unet=UNet2DConditionModel(**_SDXL_UNET, cross_attention_dim=64, projection_class_embeddings_input_dim=80),
        scheduler=_scheduler(),
    )
    base.save_pretrained(base_folder, safe_serialization=True)
    # The refiner conditions on the second text encoder only and on an aesthetic score (5 time ids x 8 + 32).
    refiner = StableDiffusionXLImg2ImgPipeline(
        vae=vae,
        text_encoder=None,
        text_encoder_2=text_encoder_2,
        tokenizer=None,
        tokenizer_2=_tokenizer(refiner_folder / "tokenizer_2"),
        unet=UNet2DConditionModel(**_SDXL_UNET, cross_attention_dim=32, projection_class_embeddings_input_dim=72),
        scheduler=_scheduler(),
        requires_aesthetics_score=True,
    )
    refiner.save_pretrained(refiner_folder, safe_serialization=True)


def build_lora(file: Path, seed: int) -> None:
    """A LoRA on the SD 1.5 demo UNet's attention layers with random A and B, so that it changes the image."""
    import torch
    from diffusers import StableDiffusionPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(seed)
    unet = _sd15_unet()
    config = LoraConfig(r=4, lora_alpha=4, init_lora_weights=False, target_modules=["to_q", "to_k", "to_v", "to_out.0"])
    unet.add_adapter(config)
    layers = get_peft_model_state_dict(unet)
    StableDiffusionPipeline.save_lora_weights(
        file.parent, unet_lora_layers=layers, weight_name=file.name, safe_serialization=True
    )


def build_embedding(file: Path) -> None:
    """A two-vector textual inversion for the SD 1.5 demo text encoder (hidden size 32)."""
    import torch
    from safetensors.torch import save_file

    file.parent.mkdir(parents=True, exist_ok=True)
    save_file({"emb_params": torch.randn(2, 32) * 0.5}, str(file))


def build_controlnet(folder: Path, unet: Any) -> None:
    """A ControlNet copied from the demo UNet; its zero-initialised output layers are randomised to act."""
    import torch
    from diffusers import ControlNetModel

    controlnet = ControlNetModel.from_unet(unet)
    zero_layers = [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]
    zero_layers.append(controlnet.controlnet_cond_embedding.conv_out)
    with torch.no_grad():
        for layer in zero_layers:
            layer.weight.normal_(0.0, 0.05)
            layer.bias.normal_(0.0, 0.05)
    controlnet.save_pretrained(folder, safe_serialization=True)


def build_vae(folder: Path) -> None:
    _vae().save_pretrained(folder, safe_serialization=True)


def init_demo(catalog: Catalog, *, overwrite: bool = False) -> list[ModelEntry]:
    """Build every demo model into `catalog` and index it under its fixed AIR id. Takes seconds, no network."""
    import torch

    from graph_runtime.backends.local.backend import quiet_libraries

    quiet_libraries()
    catalog.ensure_layout()
    entries: list[ModelEntry] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(20240601)  # the same demo set on every machine
        paths = {m.air: _demo_path(catalog, m) for m in DEMO_MODELS}
        for path in paths.values():
            if path.exists() and overwrite:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        pending = {air for air, path in paths.items() if not path.exists()}
        if SD15 in pending or CONTROLNET in pending:
            sd15 = build_sd15(paths[SD15]) if SD15 in pending else None
            if CONTROLNET in pending:
                unet = sd15.unet if sd15 is not None else _sd15_unet()
                build_controlnet(paths[CONTROLNET], unet)
        if SDXL in pending or SDXL_REFINER in pending:
            for air in (SDXL, SDXL_REFINER):
                if paths[air].exists():
                    shutil.rmtree(paths[air])
            build_sdxl(paths[SDXL], paths[SDXL_REFINER])
        if LORA_1 in pending:
            build_lora(paths[LORA_1], seed=1)
        if LORA_2 in pending:
            build_lora(paths[LORA_2], seed=2)
        if EMBEDDING in pending:
            build_embedding(paths[EMBEDDING])
        if VAE in pending:
            build_vae(paths[VAE])
    for model in DEMO_MODELS:
        entries.append(
            catalog.add(model.air, model.kind, paths[model.air], architecture=model.architecture, replace=True)
        )
    return entries


def _demo_path(catalog: Catalog, model: DemoModel) -> Path:
    folder = catalog.kind_folder(model.kind)
    return folder / model.file if model.file else folder / model.folder
