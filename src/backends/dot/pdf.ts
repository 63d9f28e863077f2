/**
 * A scene (scene.ts) as a one-page PDF through pdfkit, the page the scene's
 * size in points, every font embedded (subsets of Arimo's TrueType files, the
 * font the PNGs are drawn with). Text is placed where Graphviz put it; a line
 * that runs wider in the drawing font than the layout reserved is squeezed to
 * fit, so text stays inside its box.
 *
 * The serif family (the paper theme's caption) is drawn in Arimo too: no
 * serif TrueType font is among the dependencies (Tinos, metric-compatible with
 * Times, would be the one to add).
 */
import { DIAGRAM_FONT_FILE, DIAGRAM_FONT_FILES } from './render.js';
import { checkPageSize, DASHES, type Paint, type Pen, type Scene } from '../../scene.js';

export interface PdfOptions {
  /** The document's title (its Info dictionary). */
  title: string;
}

export async function sceneToPdf(scene: Scene, options: PdfOptions): Promise<Uint8Array> {
  checkPageSize(scene, 'PDF');
  // Loaded here, not at startup: only PDF output needs it.
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({ size: [scene.width, scene.height], margin: 0, font: DIAGRAM_FONT_FILE, info: { Title: options.title, Creator: 'dlc' } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  const y = (v: number) => scene.height - v; // pdfkit's origin is the top left

  const paint = (fill: Paint | undefined, stroke: Paint | undefined, pen: Pen) => {
    if (fill) doc.fillColor(fill.color, fill.opacity);
    if (stroke) {
      doc.strokeColor(stroke.color, stroke.opacity).lineWidth(pen.width);
      if (pen.dash === 'solid') doc.undash();
      else doc.dash(DASHES[pen.dash][0], { space: DASHES[pen.dash][1] });
    }
    if (fill && stroke) doc.fillAndStroke();
    else if (fill) doc.fill();
    else if (stroke) doc.stroke();
  };

  for (const shape of scene.shapes) {
    switch (shape.kind) {
      case 'path': {
        const [[x0, y0], ...rest] = shape.points;
        doc.moveTo(x0, y(y0));
        if (shape.curve) for (let i = 0; i + 2 < rest.length; i += 3) doc.bezierCurveTo(rest[i][0], y(rest[i][1]), rest[i + 1][0], y(rest[i + 1][1]), rest[i + 2][0], y(rest[i + 2][1]));
        else for (const [px, py] of rest) doc.lineTo(px, y(py));
        if (shape.closed) doc.closePath();
        paint(shape.fill, shape.stroke, shape.pen);
        break;
      }
      case 'ellipse':
        doc.ellipse(shape.cx, y(shape.cy), shape.rx, shape.ry);
        paint(shape.fill, shape.stroke, shape.pen);
        break;
      case 'text': {
        doc.font(DIAGRAM_FONT_FILES[+shape.bold][+shape.italic]).fontSize(shape.size);
        const natural = doc.widthOfString(shape.text);
        const squeeze = shape.width > 0 && natural > shape.width ? shape.width / natural : 1;
        const width = natural * squeeze;
        const start = shape.align === 'l' ? 0 : shape.align === 'c' ? -width / 2 : -width;
        doc.save().translate(shape.x, y(shape.y));
        if (shape.rotate) doc.rotate(-shape.rotate);
        doc.translate(start, 0).scale(squeeze, 1);
        doc.fillColor(shape.paint.color, shape.paint.opacity).text(shape.text, 0, 0, { lineBreak: false, baseline: 'alphabetic' });
        doc.restore();
        break;
      }
    }
  }
  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}
