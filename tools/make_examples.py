"""Regenerate the example workflows in workflows/ (run once after changing them here; the JSON is committed)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from graph_runtime.builder import WorkflowBuilder
from graph_runtime.document import save

OUT = Path(__file__).resolve().parent.parent / "workflows"
ASTRONAUT = (
    "An astronaut floating inside a giant hourglass in space, surrounded by stars and glowing dust, with galaxies "
    "swirling faintly above and golden sand below. Dreamy, surreal, cinematic"
)


class Builder(WorkflowBuilder):
    def save(self, filename: str) -> None:
        save(self.workflow, OUT / filename)


def text_to_image() -> None:
    b = Builder("Text to image", "The API's basic request: FLUX.1 Dev, 1024x1024, 30 steps.")
    b.node("model", "model", 0, 0, model="runware:101@1", architecture="flux-dev")
    b.node("prompt", "prompt", 0, 160, text=ASTRONAUT)
    b.node("infer", "image_inference", 360, 0, width=1024, height=1024, steps=30)
    b.node("save", "save_image", 720, 0)
    b.link("model", "model", "infer", "model")
    b.link("prompt", "text", "infer", "positive")
    b.link("infer", "image", "save", "image")
    b.save("text-to-image.json")


def lora_stack() -> None:
    b = Builder("LoRA stack", "Two LoRAs on an SDXL model, in order, with different weights.")
    b.node("model", "model", 0, 0, model="civitai:133005@782002", architecture="sdxl")
    b.node("prompt", "prompt", 0, 160, text="A supercar on a wet city street at night, neon reflections")
    b.node("negative", "prompt", 0, 320, text="blurry, low quality, watermark")
    b.node("pixel_art", "lora", 0, 480, model="runware:13090@1", weight=1.5)
    b.node("neon", "lora", 0, 600, model="runware:6638@1", weight=0.8)
    b.node("infer", "image_inference", 360, 0, width=1024, height=1024, steps=25, CFGScale=6.5,
           scheduler="DPM++ 2M Karras", seed=42)  # fmt: skip
    b.node("save", "save_image", 720, 0)
    b.link("model", "model", "infer", "model")
    b.link("prompt", "text", "infer", "positive")
    b.link("negative", "text", "infer", "negative")
    b.link("pixel_art", "lora", "infer", "loras")
    b.link("neon", "lora", "infer", "loras")
    b.link("infer", "image", "save", "image")
    b.save("lora-stack.json")


def embeddings() -> None:
    b = Builder("Embeddings", "A style embedding pulls a concept in; a negative weight on another pushes one out.")
    b.node("model", "model", 0, 0, model="civitai:4384@128713", architecture="sd1.5")
    b.node("prompt", "prompt", 0, 160, text="A woman waving hello, portrait, soft window light")
    b.node("style", "embedding", 0, 320, model="civitai:118418@134583", weight=1.5)
    b.node("bad_hands", "embedding", 0, 440, model="civitai:583583@651084", weight=-1.0)
    b.node("infer", "image_inference", 360, 0, width=512, height=768, steps=30, clipSkip=1)
    b.node("save", "save_image", 720, 0)
    b.link("model", "model", "infer", "model")
    b.link("prompt", "text", "infer", "positive")
    b.link("style", "embedding", "infer", "embeddings")
    b.link("bad_hands", "embedding", "infer", "embeddings")
    b.link("infer", "image", "save", "image")
    b.save("embeddings.json")


def controlnet_canny() -> None:
    b = Builder("ControlNet canny", "Edges of a local image steer the composition; the guide never leaves the API.")
    b.node("source", "load_image", 0, 0, path="assets/reference.png")
    b.node("canny", "controlnet_preprocess", 300, 0, preProcessorType="canny", lowThresholdCanny=100,
           highThresholdCanny=200)  # fmt: skip
    b.node("controlnet", "controlnet", 600, 0, model="runware:25@1", startStep=1, endStep=10, weight=1.0,
           controlMode="balanced")  # fmt: skip
    b.node("model", "model", 600, 240, model="civitai:4384@128713", architecture="sd1.5")
    b.node("prompt", "prompt", 600, 400, text="A futuristic woman with iridescent skin and a chrome headwrap")
    b.node("infer", "image_inference", 900, 0, width=512, height=512, steps=30)
    b.node("save", "save_image", 1200, 0)
    b.node("guide_preview", "preview_image", 600, -200)
    b.link("source", "image", "canny", "image")
    b.link("canny", "guide", "controlnet", "guide_image")
    b.link("canny", "guide", "guide_preview", "image")
    b.link("controlnet", "controlnet", "infer", "controlnets")
    b.link("model", "model", "infer", "model")
    b.link("prompt", "text", "infer", "positive")
    b.link("infer", "image", "save", "image")
    b.save("controlnet-canny.json")


def sdxl_refiner() -> None:
    b = Builder("SDXL with refiner", "The SDXL base denoises 30 of 40 steps; the refiner finishes the same latent.")
    b.node("model", "model", 0, 0, model="civitai:139562@297320", architecture="sdxl")
    b.node("refiner", "refiner", 0, 160, model="civitai:101055@128080", startStep=30)
    b.node("prompt", "prompt", 0, 300, text="a highly detailed portrait of a wise old wizard with a long beard")
    b.node("infer", "image_inference", 360, 0, width=1024, height=1024, steps=40)
    b.node("save", "save_image", 720, 0)
    b.link("model", "model", "infer", "model")
    b.link("refiner", "refiner", "infer", "refiner")
    b.link("prompt", "text", "infer", "positive")
    b.link("infer", "image", "save", "image")
    b.save("sdxl-refiner.json")


def image_to_image() -> None:
    b = Builder("Image to image", "Repaint a local image: at strength 0.6, the last 18 of 30 steps run.")
    b.node("source", "load_image", 0, 0, path="assets/reference.png")
    b.node("model", "model", 0, 160, model="civitai:4384@128713", architecture="sd1.5")
    b.node("prompt", "prompt", 0, 320, text="A stained glass window of geometric shapes, vivid colours")
    b.node("infer", "image_inference", 360, 0, width=512, height=512, steps=30, strength=0.6, seed=1234)
    b.node("save", "save_image", 720, 0, folder="img2img")
    b.link("source", "image", "infer", "seed_image")
    b.link("model", "model", "infer", "model")
    b.link("prompt", "text", "infer", "positive")
    b.link("infer", "image", "save", "image")
    b.save("image-to-image.json")


def flux_schnell_preview() -> None:
    b = Builder("FLUX Schnell fast preview", "Four quick 4-step drafts of one idea to pick from.")
    b.node("model", "model", 0, 0, model="runware:100@1", architecture="flux-schnell")
    b.node("prompt", "prompt", 0, 160, text="A cosy reading nook in a treehouse, warm afternoon light")
    b.node(
        "infer",
        "image_inference",
        360,
        0,
        width=768,
        height=512,
        steps=4,
        numberResults=4,
        outputFormat="WEBP",
    )
    b.node("preview", "preview_image", 720, 0)
    b.link("model", "model", "infer", "model")
    b.link("prompt", "text", "infer", "positive")
    b.link("infer", "image", "preview", "image")
    b.save("flux-schnell-preview.json")


def reference_image() -> None:
    """A small picture with clear edges, for the ControlNet and image-to-image examples."""
    img = Image.new("RGB", (256, 256), (32, 40, 64))
    draw = ImageDraw.Draw(img)
    draw.ellipse((40, 30, 200, 190), fill=(230, 180, 60))
    draw.rectangle((100, 150, 230, 240), fill=(70, 150, 200))
    draw.polygon([(20, 240), (90, 120), (160, 240)], fill=(200, 70, 90))
    img.save(OUT / "assets" / "reference.png", optimize=True)


if __name__ == "__main__":
    reference_image()
    for make in (text_to_image, lora_stack, embeddings, controlnet_canny, sdxl_refiner, image_to_image,
                 flux_schnell_preview):  # fmt: skip
        make()
