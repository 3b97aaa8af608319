// Zone editor: draw polygons (zones) and two-point lines on a snapshot or blank frame, by mouse or keyboard.
// Points are kept normalised (0..1 of width and height), exactly as the edge's camera config wants them.
const BLANK_W = 960;
const BLANK_H = 540;
const CLOSE_PX = 12;

export class ZoneEditor {
  constructor(canvas, onChange, labels) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onChange = onChange;
    this.labels = labels;
    this.image = null;
    this.shapes = [];
    this.mode = null;
    this.draft = [];
    this.cursor = [0.5, 0.5];
    this.setImage(null);
    canvas.addEventListener("click", (event) => this.addPoint(this.toNorm(event)));
    canvas.addEventListener("dblclick", (event) => { event.preventDefault(); this.finish(); });
    canvas.addEventListener("mousemove", (event) => { this.cursor = this.toNorm(event); this.draw(); });
    canvas.addEventListener("keydown", (event) => this.onKey(event));
  }

  setImage(image) {
    this.image = image;
    this.canvas.width = image ? image.naturalWidth : BLANK_W;
    this.canvas.height = image ? image.naturalHeight : BLANK_H;
    this.draw();
  }

  start(mode) {
    this.mode = mode;
    this.draft = [];
    this.canvas.dataset.mode = mode;
    this.canvas.focus();
    this.draw();
  }

  toNorm(event) {
    const rect = this.canvas.getBoundingClientRect();
    const x = Math.min(Math.max((event.clientX - rect.left) / rect.width, 0), 1);
    const y = Math.min(Math.max((event.clientY - rect.top) / rect.height, 0), 1);
    return [Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000];
  }

  addPoint(point) {
    if (!this.mode) return;
    if (this.mode === "zone" && this.draft.length >= 3 && this.nearFirst(point)) { this.finish(); return; }
    this.draft.push(point);
    if (this.mode === "line" && this.draft.length === 2) { this.finish(); return; }
    this.draw();
  }

  nearFirst(point) {
    const [fx, fy] = this.draft[0];
    return Math.hypot((point[0] - fx) * this.canvas.width, (point[1] - fy) * this.canvas.height)
      < CLOSE_PX * (this.canvas.width / this.canvas.getBoundingClientRect().width || 1);
  }

  finish() {
    const need = this.mode === "zone" ? 3 : 2;
    if (!this.mode || this.draft.length < need) return;
    const kind = this.mode;
    const count = this.shapes.filter((s) => s.kind === kind).length + 1;
    this.shapes.push({ kind, id: `${kind}-${count}`, points: this.draft.slice(0, kind === "line" ? 2 : undefined) });
    this.mode = null;
    this.draft = [];
    delete this.canvas.dataset.mode;
    this.draw();
    this.onChange();
  }

  cancel() {
    this.mode = null;
    this.draft = [];
    delete this.canvas.dataset.mode;
    this.draw();
  }

  undo() {
    if (this.draft.length) this.draft.pop();
    else { this.shapes.pop(); this.onChange(); }
    this.draw();
  }

  remove(index) {
    this.shapes.splice(index, 1);
    this.draw();
    this.onChange();
  }

  load(zones, lines) {
    this.shapes = [
      ...(zones || []).map((z) => ({ kind: "zone", id: z.id, points: z.polygon.map((p) => [...p]) })),
      ...(lines || []).map((l) => ({ kind: "line", id: l.id, points: l.points.map((p) => [...p]) })),
    ];
    this.draw();
  }

  // Keyboard drawing: arrows move the crosshair (Shift = bigger steps), Enter/Space adds a point,
  // F finishes the polygon, Escape cancels, Backspace removes the last point.
  onKey(event) {
    const step = event.shiftKey ? 0.05 : 0.01;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (event.key in moves) {
      const [dx, dy] = moves[event.key];
      this.cursor = [Math.min(Math.max(this.cursor[0] + dx, 0), 1), Math.min(Math.max(this.cursor[1] + dy, 0), 1)]
        .map((v) => Math.round(v * 1000) / 1000);
    } else if ((event.key === "Enter" || event.key === " ") && this.mode) {
      this.addPoint([...this.cursor]);
    } else if (event.key === "f" || event.key === "F") {
      this.finish();
    } else if (event.key === "Escape") {
      this.cancel();
    } else if (event.key === "Backspace") {
      this.undo();
    } else {
      return;
    }
    event.preventDefault();
    this.draw();
  }

  draw() {
    const { ctx, canvas } = this;
    const w = canvas.width;
    const h = canvas.height;
    if (this.image) ctx.drawImage(this.image, 0, 0, w, h);
    else this.drawBlank(w, h);
    const px = ([x, y]) => [x * w, y * h];
    ctx.lineWidth = Math.max(2, w / 400);
    ctx.font = `${Math.max(14, Math.round(w / 50))}px sans-serif`;
    for (const shape of this.shapes) {
      const colour = shape.kind === "zone" ? "#00e5ff" : "#ff4081";
      this.path(shape.points.map(px), shape.kind === "zone", colour, false);
      const [lx, ly] = px(shape.points[0]);
      ctx.fillStyle = colour;
      ctx.fillText(shape.id, lx + 6, ly - 6);
    }
    if (this.mode) {
      this.path([...this.draft, this.cursor].map(px), false, "#ffea00", true);
      for (const point of this.draft) {
        const [x, y] = px(point);
        ctx.fillStyle = "#ffea00";
        ctx.fillRect(x - 4, y - 4, 8, 8);
      }
    }
    if (document.activeElement === canvas || this.mode) {
      const [cx, cy] = px(this.cursor);
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(cx - 10, cy); ctx.lineTo(cx + 10, cy); ctx.moveTo(cx, cy - 10); ctx.lineTo(cx, cy + 10);
      ctx.stroke();
    }
  }

  path(points, closed, colour, dashed) {
    const { ctx } = this;
    if (points.length < 2) return;
    ctx.setLineDash(dashed ? [8, 6] : []);
    ctx.strokeStyle = colour;
    ctx.lineWidth = Math.max(2, this.canvas.width / 400);
    ctx.beginPath();
    points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    if (closed) {
      ctx.closePath();
      ctx.fillStyle = "rgba(0, 229, 255, 0.18)";
      ctx.fill();
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }

  drawBlank(w, h) {
    const { ctx } = this;
    ctx.fillStyle = "#37474f";
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = "#546e7a";
    ctx.lineWidth = 1;
    for (let i = 1; i < 10; i += 1) {
      ctx.beginPath(); ctx.moveTo((w * i) / 10, 0); ctx.lineTo((w * i) / 10, h); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(0, (h * i) / 10); ctx.lineTo(w, (h * i) / 10); ctx.stroke();
    }
    ctx.fillStyle = "#cfd8dc";
    ctx.font = "20px sans-serif";
    ctx.fillText(this.labels.blank, 16, 32);
  }
}
