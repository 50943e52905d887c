// The page's own script: read the run from the data block, rebuild the network in typed arrays, and write.
// charlab/network/cells.py's JS_PRELUDE (sigmoid, vecMat) and CHARLAB_CELLS (each cell's step) come before this.
// Everything from the run goes into the page with textContent only: it is data, never markup.
const charlabPage = (() => {
  const data = JSON.parse(document.getElementById("charlab-data").textContent);
  const SHOWN_CHARS = 15; // bars in the next-character list

  // ------------------------------------------------------------ the weights
  function base64Bytes(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function halfFloats(bytes) {
    // IEEE float16, little-endian, decoded by hand (no Float16Array in every browser yet)
    const count = bytes.length >> 1, out = new Float32Array(count), scale = new Float32Array(32);
    for (let e = 1; e < 31; e++) scale[e] = Math.pow(2, e - 25); // (1024 + fraction) * 2^(e - 25)
    for (let i = 0; i < count; i++) {
      const h = bytes[2 * i] | (bytes[2 * i + 1] << 8);
      const exponent = (h >> 10) & 31, fraction = h & 1023;
      let value;
      if (exponent === 0) value = fraction * 5.960464477539063e-8; // subnormal: fraction * 2^-24
      else if (exponent === 31) value = fraction ? NaN : Infinity;
      else value = (1024 + fraction) * scale[exponent];
      out[i] = h & 0x8000 ? -value : value;
    }
    return out;
  }

  function decodeWeights(spec) {
    const bytes = base64Bytes(spec.data);
    const flat = spec.encoding === "float16" ? halfFloats(bytes) : new Float32Array(bytes.buffer);
    const arrays = {};
    for (const a of spec.arrays) {
      const size = a.shape.reduce((p, q) => p * q, 1);
      arrays[a.name] = flat.subarray(a.offset, a.offset + size);
    }
    return arrays;
  }

  // ------------------------------------------------------------ the network (as charlab.network.sampling.NumpyCharModel)
  function buildNetwork() {
    const w = decodeWeights(data.weights);
    const cell = CHARLAB_CELLS[data.cell];
    const units = data.units, width = cell.gates * units, vocabSize = data.vocab.length;
    const layers = [];
    for (let i = 0; i < data.layers; i++) {
      const bias = w[`rnn_${i}.bias`];
      layers.push({
        units, recurrent: w[`rnn_${i}.recurrent_kernel`], bias, scratch: new Float32Array(width),
        kernel: w[`rnn_${i}.kernel`],
        inputBias: bias.subarray(0, width), // a GRU's bias is (2, gates·m): its first row is the input bias
        projected: new Float32Array(width),
      });
    }
    // the first layer's input projection of every character, precomputed: (V, gates·m)
    const embeddingSize = w.embedding.length / vocabSize;
    const table = new Float32Array(vocabSize * width);
    for (let c = 0; c < vocabSize; c++) {
      const row = table.subarray(c * width, (c + 1) * width);
      vecMat(w.embedding.subarray(c * embeddingSize, (c + 1) * embeddingSize), layers[0].kernel, width, row);
      for (let j = 0; j < width; j++) row[j] += layers[0].inputBias[j];
    }
    return {
      cell, layers, table, width, units, vocabSize,
      outKernel: w["logits.kernel"], outBias: w["logits.bias"], logits: new Float32Array(vocabSize),
    };
  }

  const net = buildNetwork();
  const chars = data.vocab;
  const index = new Map(chars.map((ch, i) => [ch, i]));

  function initialState() {
    return net.layers.map(() => net.cell.states.map(() => new Float32Array(net.units)));
  }

  function hiddenStep(id, state) {
    const next = new Array(net.layers.length);
    let x = null;
    for (let i = 0; i < net.layers.length; i++) {
      const layer = net.layers[i], projected = layer.projected;
      if (i === 0) {
        projected.set(net.table.subarray(id * net.width, (id + 1) * net.width));
      } else {
        vecMat(x, layer.kernel, net.width, projected);
        for (let j = 0; j < net.width; j++) projected[j] += layer.inputBias[j];
      }
      next[i] = net.cell.step(projected, state[i], layer);
      x = next[i][0];
    }
    return next;
  }

  function logitsAfter(state) {
    const logits = vecMat(state[state.length - 1][0], net.outKernel, net.vocabSize, net.logits);
    for (let j = 0; j < net.vocabSize; j++) logits[j] += net.outBias[j];
    return logits;
  }

  function encodeSeed(text) {
    // unseen characters are dropped and reported, never guessed (charlab.text.vocab.Vocab.encode_seed)
    const ids = [], kept = [], dropped = [];
    for (const ch of text) {
      if (index.has(ch)) { ids.push(index.get(ch)); kept.push(ch); }
      else if (!dropped.includes(ch)) dropped.push(ch);
    }
    return { ids, text: kept.join(""), dropped };
  }

  function feed(text) {
    // the context's last logits and state; an empty one starts after a line break (Generator._context_ids)
    let ids = encodeSeed(text).ids;
    if (ids.length === 0 && index.has("\n")) ids = [index.get("\n")];
    let state = initialState();
    for (const id of ids) state = hiddenStep(id, state);
    const logits = ids.length ? Float32Array.from(logitsAfter(state)) : new Float32Array(net.vocabSize);
    return { logits, state };
  }

  // ------------------------------------------------------------ sampling (as charlab.network.sampling)
  function checkedTemperature(t) {
    const [lowest, highest] = data.settings.temperature.kept_within; // as charlab.network.sampling.check_temperature
    return Math.min(Math.max(t, lowest), highest);
  }

  const scaled = new Float64Array(chars.length), cdf = new Float64Array(chars.length);

  function keepTopK(values, topK) {
    // all but the top_k largest set to -inf; ties with the k-th are kept, as numpy's partition does
    if (!topK || topK >= values.length) return;
    const cut = Array.from(values).sort((a, b) => b - a)[topK - 1];
    for (let i = 0; i < values.length; i++) if (values[i] < cut) values[i] = -Infinity;
  }

  function pickId(logits, temperature, topK, u) {
    // inverse-CDF sampling on unnormalised weights, as Generator.generate: the same u picks the same id
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++) scaled[i] = logits[i] / temperature;
    keepTopK(scaled, topK);
    for (let i = 0; i < logits.length; i++) if (scaled[i] > max) max = scaled[i];
    let total = 0;
    for (let i = 0; i < logits.length; i++) { total += Math.exp(scaled[i] - max); cdf[i] = total; }
    const target = u * total;
    for (let i = 0; i < logits.length; i++) if (cdf[i] > target) return i;
    return logits.length - 1;
  }

  function probabilities(logits, temperature, topK) {
    const t = checkedTemperature(temperature), out = new Float64Array(logits.length);
    for (let i = 0; i < logits.length; i++) out[i] = logits[i] / t;
    keepTopK(out, topK);
    let max = -Infinity, total = 0;
    for (const v of out) if (v > max) max = v;
    for (let i = 0; i < out.length; i++) { out[i] = Math.exp(out[i] - max); total += out[i]; }
    for (let i = 0; i < out.length; i++) out[i] /= total;
    return out;
  }

  function mulberry32(seed) {
    // a small seeded generator: the same random seed gives the same text again
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function writer(seedText, length, temperature, topK, randomSeed) {
    // writes on demand, a few characters at a time, so the page can show them as they come
    const random = mulberry32(randomSeed), t = checkedTemperature(temperature);
    let { logits, state } = feed(seedText);
    const written = [];
    return {
      done: () => written.length >= length,
      text: () => written.join(""),
      logits: () => Float32Array.from(logits),
      advance(count) {
        for (let k = 0; k < count && written.length < length; k++) {
          const id = pickId(logits, t, topK, random());
          written.push(chars[id]);
          state = hiddenStep(id, state);
          logits = logitsAfter(state);
        }
      },
    };
  }

  function write(seedText, length, temperature, topK, randomSeed) {
    const w = writer(seedText, length, temperature, topK, randomSeed);
    w.advance(length);
    return w.text();
  }

  function stepProbabilities(text, steps) {
    // the distribution (temperature 1) after each of the text's first `steps` characters: for the tests
    const ids = encodeSeed(text).ids.slice(0, steps);
    let state = initialState();
    return ids.map((id) => {
      state = hiddenStep(id, state);
      return Array.from(probabilities(logitsAfter(state), 1, 0));
    });
  }

  // ------------------------------------------------------------ the page
  const $ = (id) => document.getElementById(id);
  const show = (id, text) => { $(id).textContent = text; };

  function visible(ch) {
    // as charlab.text.corpus.visible: invisible characters made visible
    const special = { " ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍" };
    if (ch in special) return special[ch];
    if (/[\p{C}\p{Z}]/u.test(ch)) return "U+" + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
    return ch;
  }

  // each generation setting's input (its id: the setting's name with dashes) and its description
  // (charlab.network.generation.GENERATE_SETTINGS, in the data)
  const INPUTS = Object.fromEntries(Object.keys(data.settings).map((name) => [name, name.replaceAll("_", "-")]));
  const NUMBERS = Object.keys(data.settings).filter((name) => data.settings[name].whole); // typed, so checked

  function outOfRange(name, value) {
    // a whole number within the setting's range, else the words that say so
    const s = data.settings[name], words = (n) => n.toLocaleString("en");
    if (Number.isFinite(value) && value >= s.min && value <= s.max) return "";
    return `${s.label} must be a whole number from ${words(s.min)} to ${words(s.max)}.`;
  }

  function settings() {
    const values = {};
    for (const name of NUMBERS) values[name] = Math.round(Number($(INPUTS[name]).value));
    const problem = NUMBERS.map((name) => outOfRange(name, values[name])).find((words) => words) || "";
    const { length, top_k: topK, random_seed: randomSeed } = values;
    $("settings-problem").hidden = !problem;
    show("settings-problem", problem ? "⚠ " + problem : "");
    return {
      problem, length, topK: topK || 0, randomSeed,
      temperature: Number($("temperature").value), seed: $("seed-text").value,
    };
  }

  function drawSeedNote() {
    const dropped = encodeSeed($("seed-text").value).dropped;
    $("seed-skipped").hidden = dropped.length === 0;
    show("seed-skipped", "⚠ Not in this model's vocabulary, so skipped: " + dropped.map(visible).join(""));
  }

  let shownContext = null, shownLogits = null;

  function drawProbabilities(context, logits) {
    if (context !== null) { shownContext = context; shownLogits = logits; }
    const s = settings(), t = s.temperature;
    const now = probabilities(shownLogits, t, s.topK), atOne = probabilities(shownLogits, 1, 0);
    const order = Array.from(now.keys()).sort((a, b) => now[b] - now[a]).slice(0, SHOWN_CHARS);
    const top = Math.max(1e-9, ...order.map((i) => Math.max(now[i], atOne[i])));
    const tail = Array.from(shownContext).slice(-40).map(visible).join("");
    show("next-caption", (shownContext ? `What the model would write after “…${tail}”.` :
      "What the model would write at the start of a line.") +
      ` Bars: at temperature ${t}; black ticks: at temperature 1. Move the temperature slider to reshape them.`);
    const list = $("next-bars");
    list.replaceChildren(...order.map((i) => {
      const row = document.createElement("li"), char = document.createElement("span");
      char.className = "char"; char.textContent = data.visible[i];
      const track = document.createElement("span"), bar = document.createElement("span");
      const tick = document.createElement("span"), share = document.createElement("span");
      track.className = "track"; bar.className = "bar"; tick.className = "tick"; share.className = "share";
      bar.style.width = `${(100 * now[i]) / top}%`;
      tick.style.left = `${(100 * atOne[i]) / top}%`;
      share.textContent = `${(100 * now[i]).toFixed(1)}%`;
      track.append(bar, tick);
      row.append(char, track, share);
      return row;
    }));
  }

  let probabilityTimer = 0;
  function seedChanged() {
    drawSeedNote();
    clearTimeout(probabilityTimer);
    probabilityTimer = setTimeout(() => {
      const seed = encodeSeed($("seed-text").value).text;
      drawProbabilities(seed, feed(seed).logits);
    }, 250);
  }

  let job = 0; // a new Write or Compare replaces the one still writing

  function runWriters(writers, onFrame, onDone) {
    // write for ~12 ms, show what came, let the browser draw, go on: the page never freezes
    const mine = ++job, started = performance.now();
    setBusy(true);
    function frame() {
      if (mine !== job) return;
      const until = performance.now() + 12;
      do { for (const w of writers) w.advance(16); }
      while (performance.now() < until && writers.some((w) => !w.done()));
      onFrame();
      if (writers.some((w) => !w.done())) requestAnimationFrame(frame);
      else { setBusy(false); onDone(performance.now() - started); }
    }
    requestAnimationFrame(frame);
  }

  function setBusy(busy) {
    for (const id of ["write", "compare"]) $(id).disabled = busy;
  }

  function startWrite() {
    const s = settings();
    if (s.problem) return;
    const seed = encodeSeed(s.seed).text, w = writer(seed, s.length, s.temperature, s.topK, s.randomSeed);
    $("text-section").hidden = false;
    show("text-seed", seed);
    show("text-written", "");
    show("text-speed", "");
    runWriters([w], () => show("text-written", w.text()), (ms) => {
      show("text-speed", `${s.length.toLocaleString("en")} characters in ${(ms / 1000).toFixed(2)} s, at temperature ` +
        `${s.temperature}, random seed ${s.randomSeed}.`);
      drawProbabilities(seed + w.text(), w.logits());
    });
  }

  function startCompare() {
    const s = settings();
    if (s.problem) return;
    const seed = encodeSeed(s.seed).text, length = Math.min(s.length, 1500);
    const columns = data.compare_temperatures.map((t) => {
      const column = document.createElement("div"), title = document.createElement("h3");
      const box = document.createElement("div"), seedPart = document.createElement("span");
      const written = document.createElement("span");
      title.textContent = `Temperature ${t}`;
      box.className = "text-box short"; seedPart.className = "seed"; seedPart.textContent = seed;
      box.append(seedPart, written);
      column.append(title, box);
      return { column, written, w: writer(seed, length, t, s.topK, s.randomSeed) };
    });
    $("compare-columns").replaceChildren(...columns.map((c) => c.column));
    $("compare-section").hidden = false;
    runWriters(columns.map((c) => c.w), () => columns.forEach((c) => { c.written.textContent = c.w.text(); }),
      () => {});
  }

  function drawInputs() {
    // labels, ranges and defaults from the data, so the page says what the app says
    for (const [name, id] of Object.entries(INPUTS)) {
      const s = data.settings[name], input = $(id);
      const label = $(`${id}-label`) || document.querySelector(`label[for="${id}"]`); // a slider's has its value too
      label.textContent = s.label;
      if (name === "seed_text") {
        input.maxLength = s.max;
        input.placeholder = s.placeholder;
      } else {
        input.min = String(s.min); input.max = String(s.max); input.step = String(s.step);
      }
      input.value = String(s.default);
    }
  }

  function drawRun() {
    document.title = `${data.name} · charlab`;
    show("run-name", data.name);
    show("run-facts", data.facts);
    show("seed-help", data.settings.seed_text.help);
    show("temperature-help", data.settings.temperature.help);
    show("numbers-help", data.words.numbers_help);
    show("footer", data.words.footer);
    drawInputs();
    const epochs = $("epoch-texts");
    for (const entry of data.epoch_texts) {
      const details = document.createElement("details"), summary = document.createElement("summary");
      const box = document.createElement("div");
      summary.textContent = `Written after epoch ${entry.epoch} (temperature ${entry.temperature})`;
      box.className = "text-box short";
      box.textContent = entry.text;
      details.append(summary, box);
      epochs.append(details);
    }
    $("epochs-section").hidden = data.epoch_texts.length === 0;
  }

  function start() {
    drawRun();
    const temperature = $("temperature");
    const drawTemperature = () => { $("temperature-value").textContent = temperature.value; };
    drawTemperature();
    temperature.addEventListener("input", () => { drawTemperature(); drawProbabilities(null, null); });
    $("top-k").addEventListener("input", () => drawProbabilities(null, null));
    $("seed-text").addEventListener("input", seedChanged);
    $("write").addEventListener("click", startWrite);
    $("compare").addEventListener("click", startCompare);
    $("new-seed").addEventListener("click", () => {
      $("random-seed").value = String(Math.floor(Math.random() * (data.settings.random_seed.max + 1)));
    });
    drawProbabilities("", feed("").logits);
    document.body.dataset.readyMs = performance.now().toFixed(0); // from navigation (bench/webpage.py)
    document.body.dataset.ready = "yes"; // the page has loaded its network (the tests wait for it)
  }

  start();
  return { write, stepProbabilities, probabilities, feed, encodeSeed, units: net.units };
})();
