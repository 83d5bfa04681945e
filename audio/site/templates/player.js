// The edition page's player: highlights the sentence being read, seeks on click or Enter,
// and adds keyboard shortcuts. The page works without it (audio, text, chapter links).
"use strict";
(function () {
  var audio = document.getElementById("audio");
  var controls = document.getElementById("controls");
  if (!audio || !controls) return;

  var RATES = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3];
  var RESUME_MIN_MS = 5000; // a place nearer the start (or the end) than this is not offered again
  var SAVE_EVERY_MS = 2000; // the place is kept this often while playing, and on pause
  var RESTART_MS = 2000; // "previous" within this much of a paragraph's start goes to the one before
  var cues = Array.prototype.slice.call(document.querySelectorAll(".cue[data-start]"));
  var chapters = Array.prototype.slice.call(document.querySelectorAll("#text .chapter[data-start]"));
  var links = Array.prototype.slice.call(document.querySelectorAll("#chapters a[data-chapter]"));
  var playButton = document.getElementById("play");
  var resumeButton = document.getElementById("resume");
  var speedOut = document.getElementById("speed");
  var status = document.getElementById("status");
  var follow = document.getElementById("follow");
  var keysOn = document.getElementById("keys-on");
  var skipAppeal = document.getElementById("skip-appeal"); // only where the edition has an appeal
  var toAppeal = document.getElementById("to-appeal");
  var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  var cueStart = cues.map(function (c) { return parseInt(c.getAttribute("data-start"), 10); });
  var chapterStart = chapters.map(function (c) { return parseInt(c.getAttribute("data-start"), 10); });
  var current = null;
  var currentChapter = -1;
  var wordsOn = document.getElementById("words-on"); // only where the edition has word times
  var currentWord = null;
  var cueWords = cues.map(function (c) { return Array.prototype.slice.call(c.querySelectorAll(".w[data-start]")); });
  var wordStart = cueWords.map(function (ws) { return ws.map(function (w) { return parseInt(w.getAttribute("data-start"), 10); }); });
  var wordEnd = cueWords.map(function (ws) { return ws.map(function (w) { return parseInt(w.getAttribute("data-end"), 10); }); });
  var rateIndex = RATES.indexOf(1);

  controls.hidden = false;
  document.documentElement.classList.add("js");

  // Preferences last between visits where storage is allowed (file:// pages may refuse it).
  function load(name) { try { return window.localStorage.getItem("audio-edition." + name); } catch (e) { return null; } }
  function save(name, value) { try { window.localStorage.setItem("audio-edition." + name, value); } catch (e) { /* none */ } }
  var savedRate = RATES.indexOf(parseFloat(load("rate") || "1"));
  if (savedRate >= 0) rateIndex = savedRate;
  if (load("follow") === "off") follow.checked = false;
  if (load("keys") === "off") keysOn.checked = false;
  if (skipAppeal && load("skip-appeal") === "on") skipAppeal.checked = true;
  if (wordsOn && load("words") === "on") wordsOn.checked = true;

  // The place and the chapters heard, per edition (its page's path): offered as "Resume at 1:23" on return.
  var here = location.pathname;
  var savedAt = 0;
  var heard = (load("heard." + here) || "").split(",").filter(function (x) { return /^\d+$/.test(x); })
    .map(function (x) { return parseInt(x, 10); });
  var lastMs = parseInt(load("position." + here) || "0", 10);

  function clock(ms) {
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    var ss = ("0" + (s % 60)).slice(-2);
    return h ? h + ":" + ("0" + m).slice(-2) + ":" + ss : m + ":" + ss;
  }

  function keepPlace(force) {
    var ms = nowMs();
    if (!force && Math.abs(ms - savedAt) < SAVE_EVERY_MS) return;
    savedAt = ms;
    var left = (audio.duration || Infinity) * 1000 - ms;
    save("position." + here, ms >= RESUME_MIN_MS && left > RESUME_MIN_MS ? String(ms) : "0");
  }

  function markHeard(c) {
    if (c < 0 || heard.indexOf(c) >= 0) return;
    heard.push(c);
    save("heard." + here, heard.join(","));
    showHeard(c);
  }

  // A mark and words for it (a screen reader reads the link as "…, heard"), never announced by itself.
  function showHeard(c) {
    var link = links[c];
    if (!link || link.classList.contains("heard")) return;
    link.classList.add("heard");
    var mark = document.createElement("span");
    mark.className = "heard-mark";
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = " ✓";
    var words = document.createElement("span");
    words.className = "visually-hidden";
    words.textContent = ", heard";
    link.appendChild(mark);
    link.appendChild(words);
  }

  // The text is one tab stop; arrow keys move between its sentences (a roving tabindex).
  cues.forEach(function (cue, i) { cue.tabIndex = i === 0 ? 0 : -1; });

  function nowMs() { return Math.round(audio.currentTime * 1000); }

  function lastAtOrBefore(starts, ms) {
    var lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= ms) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function say(text) { status.textContent = text; }

  function keepInView(el) {
    if (!follow.checked) return;
    var box = el.getBoundingClientRect();
    var height = window.innerHeight || document.documentElement.clientHeight;
    if (reduceMotion.matches) {
      // No animation, and no scrolling at all while the sentence is fully visible.
      if (box.top >= 0 && box.bottom <= height) return;
      el.scrollIntoView({ block: "nearest", behavior: "auto" });
    } else {
      if (box.top >= height * 0.15 && box.bottom <= height * 0.85) return;
      el.scrollIntoView({ block: "center", behavior: "smooth" });
    }
  }

  function textHasFocus() { return cues.indexOf(document.activeElement) >= 0; }

  function update() {
    var ms = nowMs();
    var i = lastAtOrBefore(cueStart, ms);
    var cue = i >= 0 ? cues[i] : null;
    if (cue !== current) {
      if (current) current.removeAttribute("aria-current");
      current = cue;
      if (cue) {
        cue.setAttribute("aria-current", "true");
        if (!textHasFocus()) moveTabStop(cue);
        if (scrollAllowed) keepInView(cue);
      }
    }
    showWord(i, ms);
    var c = Math.max(0, lastAtOrBefore(chapterStart, ms));
    // A chapter played to its end is heard; one left by a seek is not.
    if (c === currentChapter + 1 && !audio.paused && !audio.seeking) {
      markHeard(currentChapter);
      if (skipAppeal && skipAppeal.checked && toAppeal && c === parseInt(toAppeal.getAttribute("data-goto"), 10)) {
        // Played into the appeal with "stop before" on: stop where it starts.
        audio.pause();
        say("Stopped before the publisher’s message.");
      }
    }
    if (c !== currentChapter) {
      if (links[currentChapter]) links[currentChapter].removeAttribute("aria-current");
      currentChapter = c;
      if (links[c]) links[c].setAttribute("aria-current", "true");
    }
  }

  // The word being read, inside the sentence being read: a class only (no aria-current, no live region),
  // so a screen reader hears nothing word by word.
  function showWord(i, ms) {
    var word = null;
    if (wordsOn && wordsOn.checked && i >= 0) {
      var k = lastAtOrBefore(wordStart[i], ms);
      if (k >= 0 && ms < wordEnd[i][k]) word = cueWords[i][k];
    }
    if (word === currentWord) return;
    if (currentWord) currentWord.classList.remove("now");
    currentWord = word;
    if (word) word.classList.add("now");
  }

  function moveTabStop(cue) {
    cues.forEach(function (other) { if (other.tabIndex === 0 && other !== cue) other.tabIndex = -1; });
    cue.tabIndex = 0;
  }

  var scrollAllowed = true;

  function seek(ms, scroll) {
    audio.currentTime = ms / 1000;
    scrollAllowed = scroll !== false;
    update();
    scrollAllowed = true;
  }

  function goToChapter(c) {
    seek(chapterStart[c]);
    var link = links[c];
    say("Chapter " + (c + 1) + " of " + chapters.length + ": " + (link ? link.getAttribute("data-title") : ""));
  }

  function next() {
    var c = Math.max(0, lastAtOrBefore(chapterStart, nowMs()));
    if (c + 1 < chapters.length) goToChapter(c + 1); else say("This is the last paragraph.");
  }

  function previous() {
    var ms = nowMs();
    var c = Math.max(0, lastAtOrBefore(chapterStart, ms));
    goToChapter(ms - chapterStart[c] > RESTART_MS || c === 0 ? c : c - 1);
  }

  function toggle() {
    if (audio.paused) {
      var playing = audio.play();
      if (playing && playing.catch) playing.catch(function () { say("The audio could not be played."); });
    } else {
      audio.pause();
    }
  }

  function setRate(index) {
    rateIndex = Math.min(RATES.length - 1, Math.max(0, index));
    audio.playbackRate = RATES[rateIndex];
    audio.defaultPlaybackRate = RATES[rateIndex];
    speedOut.textContent = RATES[rateIndex] + "×";
    save("rate", String(RATES[rateIndex]));
  }

  function changeRate(step) {
    setRate(rateIndex + step);
    say("Speed " + RATES[rateIndex] + "×");
  }

  function showPlaying() {
    playButton.textContent = audio.paused ? "Play" : "Pause";
    if (!audio.paused) window.requestAnimationFrame(tick);
  }

  function tick() {
    update();
    if (!audio.paused) window.requestAnimationFrame(tick);
  }

  playButton.addEventListener("click", toggle);
  document.getElementById("prev").addEventListener("click", previous);
  document.getElementById("next").addEventListener("click", next);
  document.getElementById("slower").addEventListener("click", function () { changeRate(-1); });
  document.getElementById("faster").addEventListener("click", function () { changeRate(1); });
  follow.addEventListener("change", function () {
    save("follow", follow.checked ? "on" : "off");
    if (follow.checked && current) keepInView(current);
  });
  keysOn.addEventListener("change", function () { save("keys", keysOn.checked ? "on" : "off"); });
  if (wordsOn) wordsOn.addEventListener("change", function () { save("words", wordsOn.checked ? "on" : "off"); update(); });
  if (skipAppeal) skipAppeal.addEventListener("change", function () { save("skip-appeal", skipAppeal.checked ? "on" : "off"); });
  if (toAppeal) toAppeal.addEventListener("click", function () {
    seek(chapterStart[parseInt(toAppeal.getAttribute("data-goto"), 10)], false);
  });
  ["timeupdate", "seeked", "seeking", "loadedmetadata"].forEach(function (name) { audio.addEventListener(name, update); });
  audio.addEventListener("timeupdate", function () { if (!audio.paused) keepPlace(false); });
  audio.addEventListener("play", function () { resumeButton.hidden = true; showPlaying(); });
  audio.addEventListener("pause", function () { showPlaying(); update(); if (audio.currentTime > 0) keepPlace(true); });
  audio.addEventListener("ended", function () { markHeard(chapters.length - 1); keepPlace(true); });
  window.addEventListener("pagehide", function () { if (!audio.paused) keepPlace(true); });
  resumeButton.addEventListener("click", function () {
    resumeButton.hidden = true;
    seek(lastMs);
    say("Resumed at " + clock(lastMs));
    playButton.focus();
  });
  audio.addEventListener("ratechange", function () {
    var i = RATES.indexOf(audio.playbackRate);
    if (i >= 0) { rateIndex = i; speedOut.textContent = RATES[i] + "×"; }
  });

  links.forEach(function (link) {
    // The link still scrolls to the paragraph's text (so no scrolling here); the audio goes there too.
    link.addEventListener("click", function () {
      seek(chapterStart[parseInt(link.getAttribute("data-chapter"), 10)], false);
    });
  });

  cues.forEach(function (cue, i) {
    cue.addEventListener("click", function () { moveTabStop(cue); seek(cueStart[i]); });
    cue.addEventListener("keydown", function (event) {
      var target = null;
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        seek(cueStart[i]);
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowRight") target = cues[i + 1];
      else if (event.key === "ArrowUp" || event.key === "ArrowLeft") target = cues[i - 1];
      else if (event.key === "Home") target = cues[0];
      else if (event.key === "End") target = cues[cues.length - 1];
      else return;
      event.preventDefault();
      if (target) { moveTabStop(target); target.focus(); }
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || !keysOn.checked) return;
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    // Keys typed into a text field are text; checkboxes and buttons take no text.
    var typing = tag === "input" && !/^(checkbox|radio|button|submit|reset)$/.test(target.type);
    if (typing || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) return;
    var key = event.key;
    if (key === " ") {
      // Space keeps its own meaning on buttons, links, summaries and the audio's own controls.
      if (tag === "button" || tag === "a" || tag === "summary" || tag === "audio" || tag === "input") return;
      toggle();
    } else if (key === "k" || key === "K") toggle();
    else if (key === "n" || key === "N") next();
    else if (key === "p" || key === "P") previous();
    else if (key === "<") changeRate(-1);
    else if (key === ">") changeRate(1);
    else return;
    event.preventDefault();
  });

  setRate(rateIndex);
  heard.forEach(showHeard);
  if (lastMs >= RESUME_MIN_MS) {
    resumeButton.textContent = "Resume at " + clock(lastMs);
    resumeButton.hidden = false;
  }
  showPlaying();
  update();
})();
