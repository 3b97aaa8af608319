// District map as SVG: grid polygons from the hub's GeoJSON, open cases as coloured, focusable markers.
// No tiles: the city intranet has no map server by default, so the grid outlines are the map.
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 400;

function rings(geometry) {
  if (!geometry) return [];
  const geo = geometry.type === "Feature" ? geometry.geometry : geometry;
  if (!geo) return [];
  if (geo.type === "Polygon") return [geo.coordinates[0]];
  if (geo.type === "MultiPolygon") return geo.coordinates.map((poly) => poly[0]);
  return [];
}

function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

// Equirectangular projection scaled by cos(latitude): exact enough for a district a few km across.
function projection(points) {
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const [minLon, maxLon, minLat, maxLat] = [Math.min(...lons), Math.max(...lons), Math.min(...lats),
    Math.max(...lats)];
  const kx = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
  const spanX = Math.max((maxLon - minLon) * kx, 1e-6);
  const spanY = Math.max(maxLat - minLat, 1e-6);
  const scale = (WIDTH - 20) / Math.max(spanX, spanY);
  const height = Math.round(spanY * scale + 20);
  return {
    height,
    project: ([lon, lat]) => [10 + (lon - minLon) * kx * scale, height - 10 - (lat - minLat) * scale],
  };
}

export function drawMap(container, areas, cases, { onSelect, label }) {
  container.replaceChildren();
  const shapes = areas.map((area) => ({ area, rings: rings(area.geojson) })).filter((s) => s.rings.length);
  const located = cases.filter((c) => c.latitude !== null && c.longitude !== null);
  const points = [...shapes.flatMap((s) => s.rings.flat()), ...located.map((c) => [c.longitude, c.latitude])];
  if (!points.length) {
    container.append(Object.assign(document.createElement("p"), { className: "empty", textContent: label.empty }));
    return;
  }
  const { height, project } = projection(points);
  const svg = svgEl("svg", { viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "aria-label": label.map });
  for (const { area, rings: parts } of shapes) {
    for (const ring of parts) {
      const d = ring.map((p, i) => `${i ? "L" : "M"}${project(p).map((v) => v.toFixed(1)).join(",")}`).join("")
        + "Z";
      const path = svgEl("path", { d, class: "grid-shape", "data-area": area.code });
      path.append(Object.assign(svgEl("title", {}), { textContent: `${area.name} (${area.code})` }));
      svg.append(path);
    }
    const [cx, cy] = centroid(parts[0].map(project));
    svg.append(Object.assign(svgEl("text", { x: cx, y: cy, "text-anchor": "middle", class: "grid-label" }),
      { textContent: area.name }));
  }
  for (const item of located) {
    const [x, y] = project([item.longitude, item.latitude]);
    const marker = svgEl("circle", {
      cx: x, cy: y, r: 7, class: `marker prio-fill-${item.priority}`, tabindex: 0, role: "button",
      fill: `var(--prio-${item.priority})`, "data-case": item.case_id,
      "aria-label": `${label.marker} ${item.case_id}: ${item.title}`,
    });
    marker.append(Object.assign(svgEl("title", {}), { textContent: `#${item.case_id} ${item.title}` }));
    marker.addEventListener("click", () => onSelect(item.case_id));
    marker.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); onSelect(item.case_id); }
    });
    svg.append(marker);
  }
  container.append(svg);
}

function centroid(points) {
  const n = points.length;
  return [points.reduce((s, p) => s + p[0], 0) / n, points.reduce((s, p) => s + p[1], 0) / n];
}
