// A snapshot with its detection boxes drawn on a canvas laid over the image (boxes in frame pixels).
import { el } from "./ui.js";

const BOX_COLOUR = "#ffea00";

// frameSize: the frame the boxes were measured in ({width_px, height_px}); absent: the image's own size.
export function snapshotFigure(url, detections, frameSize, caption) {
  const img = el("img", { src: url, alt: caption });
  const canvas = el("canvas", { "aria-hidden": "true" });
  const wrap = el("div", { class: "snapshot-wrap" }, img, canvas);
  img.addEventListener("load", () => drawBoxes(canvas, img, detections, frameSize));
  return el("figure", { class: "snapshot" }, wrap, el("figcaption", { class: "hint", text: caption }));
}

export function drawBoxes(canvas, img, detections, frameSize) {
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const sx = img.naturalWidth / ((frameSize && frameSize.width_px) || img.naturalWidth);
  const sy = img.naturalHeight / ((frameSize && frameSize.height_px) || img.naturalHeight);
  const ctx = canvas.getContext("2d");
  ctx.lineWidth = Math.max(2, Math.round(img.naturalWidth / 320));
  ctx.font = `${Math.max(12, Math.round(img.naturalWidth / 50))}px sans-serif`;
  canvas.dataset.boxes = String(detections.length);
  for (const det of detections) {
    const [x1, y1, x2, y2] = det.xyxy;
    ctx.strokeStyle = BOX_COLOUR;
    ctx.strokeRect(x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy);
    const label = `${det.class_name} ${Math.round(det.score * 100)}%`;
    const h = parseInt(ctx.font, 10) + 4;
    ctx.fillStyle = BOX_COLOUR;
    ctx.fillRect(x1 * sx, Math.max(0, y1 * sy - h), ctx.measureText(label).width + 6, h);
    ctx.fillStyle = "#000";
    ctx.fillText(label, x1 * sx + 3, Math.max(h - 4, y1 * sy - 4));
  }
}
