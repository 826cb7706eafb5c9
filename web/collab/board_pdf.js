// The whiteboard's PDF: pictures, one per page: the smallest writer that does (ISO 32000-1). A whiteboard page is already a
// picture on a canvas, so each page of the PDF is that picture as a JPEG image XObject (DCTDecode, section 7.4.8)
// drawn over the whole page: no fonts, no library, nothing to keep in step with the canvas renderer.
//
//   const bytes = picturesToPdf([{ jpeg: Uint8Array, width: 1600, height: 900 }, …], { pageWidth: 960 });

const enc = new TextEncoder();

/** JPEG bytes of a canvas (a data URL decoded: toBlob is asynchronous and this need not be). */
export function canvasJpeg(canvas, quality = 0.92) {
  const b64 = canvas.toDataURL("image/jpeg", quality).split(",")[1];
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function picturesToPdf(pictures, { pageWidth = 960 } = {}) {
  const chunks = [];
  let length = 0;
  const offsets = [];
  const put = (part) => {
    const bytes = typeof part === "string" ? enc.encode(part) : part;
    chunks.push(bytes);
    length += bytes.length;
  };
  const object = (n, ...parts) => {
    offsets[n] = length; // section 7.5.4: the cross-reference table gives each object's byte offset
    put(`${n} 0 obj\n`);
    parts.forEach(put);
    put("\nendobj\n");
  };
  put("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n"); // section 7.5.2: a comment with bytes over 127 marks the file as binary
  const pages = pictures.map((_, i) => 3 + i * 3);
  object(1, "<< /Type /Catalog /Pages 2 0 R >>");
  object(2, `<< /Type /Pages /Kids [${pages.map((n) => `${n} 0 R`).join(" ")}] /Count ${pages.length} >>`);
  pictures.forEach(({ jpeg, width, height }, i) => {
    const n = pages[i];
    const w = pageWidth;
    const h = Math.round((pageWidth * height) / width);
    object(n, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${w} ${h}] /Resources << /XObject << /Im0 ${n + 2} 0 R >> >> /Contents ${n + 1} 0 R >>`);
    const draw = `q ${w} 0 0 ${h} 0 0 cm /Im0 Do Q`; // the image space's unit square scaled to the page (8.3.4)
    object(n + 1, `<< /Length ${draw.length} >>\nstream\n${draw}\nendstream`);
    object(
      n + 2,
      `<< /Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length ${jpeg.length} >>\nstream\n`,
      jpeg,
      "\nendstream",
    );
  });
  const count = 3 + pictures.length * 3;
  const xref = length;
  put(`xref\n0 ${count}\n0000000000 65535 f \n`);
  for (let n = 1; n < count; n++) put(`${String(offsets[n]).padStart(10, "0")} 00000 n \n`);
  put(`trailer\n<< /Size ${count} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
