/**
 * Renders plain text as a minimal PDF 1.4 (A4, Helvetica 10 pt, WinAnsi so Danish letters print), for the
 * CareCommunication attachment of a discharge letter that came without its own PDF: MedCom's attachment types
 * are PDF and images only (medcom-core-attachmentMimeTypes). Returns the file as base64 (Attachment.data).
 * Characters outside Latin-1 become '?'; lines are wrapped at 95 characters, 60 lines a page.
 */
export function textToPdfBase64(title: string, text: string): string {
  const lines = [title, '', ...text.split(/\r?\n/)].flatMap((l) => wrap(l, 95));
  const pages: string[][] = [];
  for (let i = 0; i < lines.length; i += 60) {
    pages.push(lines.slice(i, i + 60));
  }
  const objects: string[] = [];
  const add = (body: string): number => objects.push(body);
  const catalog = add('');
  const pagesObj = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const kids: number[] = [];
  for (const page of pages.length ? pages : [[]]) {
    const ops = page.map((l, i) => `BT /F1 10 Tf 50 ${792 - i * 12} Td (${escape(l)}) Tj ET`).join('\n');
    const content = add(`<< /Length ${Buffer.byteLength(ops, 'latin1')} >>\nstream\n${ops}\nendstream`);
    kids.push(
      add(
        `<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objects[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1').toString('base64');
}

function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let rest = line.replace(/\t/g, '    ');
  while (rest.length > width) {
    const cut = rest.lastIndexOf(' ', width) > 0 ? rest.lastIndexOf(' ', width) : width;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).trimStart();
  }
  out.push(rest);
  return out;
}

function escape(s: string): string {
  return s.replace(/[^ -\u00ff]/gu, '?').replace(/[\\()]/g, (c) => `\\${c}`);
}
