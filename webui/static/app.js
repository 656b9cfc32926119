// vnsearch: small enhancements only; every page works without JavaScript.
(function () {
  "use strict";

  // "/" focuses the search box (as on many search sites), unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var box = document.getElementById("q");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  // Empty fields stay out of the URL, so shared links are short and clean.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.method.toLowerCase() !== "get") return;
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.value === "" && field.type !== "search") field.disabled = true;
    });
    // Re-enable when the page is restored from the back/forward cache.
    window.addEventListener("pageshow", function () {
      Array.prototype.forEach.call(form.elements, function (field) { field.disabled = false; });
    }, { once: true });
  });

  // Suggestions as you type: an ARIA combobox (the input) controlling a listbox of words and titles.
  // Arrows move through the list, Enter takes the highlighted suggestion, Esc closes the list; typing is
  // never held up: requests are debounced, and an answer that comes after newer typing is dropped.
  var DEBOUNCE_MS = 120;

  function setUpSuggestions(box) {
    var form = box.form;
    var list = document.createElement("ul");
    var status = document.createElement("p");
    var items = [];
    var active = -1;
    var timer = null;
    var asked = 0;
    list.id = "q-suggestions";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Gợi ý tìm kiếm");
    list.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    form.classList.add("has-suggestions");
    form.appendChild(list);
    form.appendChild(status);
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", list.id);
    box.setAttribute("aria-expanded", "false");

    function close() {
      list.hidden = true;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(n) {
      items.forEach(function (item, i) { item.element.setAttribute("aria-selected", i === n ? "true" : "false"); });
      active = n;
      if (n >= 0) {
        box.setAttribute("aria-activedescendant", items[n].element.id);
        items[n].element.scrollIntoView({ block: "nearest" });
      } else {
        box.removeAttribute("aria-activedescendant");
      }
    }

    function choose(item) {
      close();
      if (item.url) {
        window.location.href = item.url;
        return;
      }
      box.value = item.text;
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }

    function show(suggestions) {
      list.textContent = "";
      items = suggestions.map(function (suggestion, i) {
        var option = document.createElement("li");
        option.id = "q-suggestion-" + i;
        option.className = "suggestion-" + suggestion.kind;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = suggestion.text;
        if (suggestion.kind === "title") {
          var kind = document.createElement("span");
          kind.className = "visually-hidden";
          kind.textContent = " (bài báo)";
          option.appendChild(kind);
        }
        // mousedown, not click: the box keeps the focus, so the list is not closed first
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(suggestion);
        });
        list.appendChild(option);
        return { element: option, text: suggestion.text, url: suggestion.url };
      });
      active = -1;
      if (items.length) {
        list.hidden = false;
        box.setAttribute("aria-expanded", "true");
        status.textContent = items.length + " gợi ý; dùng phím mũi tên để chọn.";
      } else {
        close();
        status.textContent = "";
      }
    }

    function ask() {
      var typed = box.value;
      var mine = ++asked;
      if (!typed.trim()) {
        show([]);
        return;
      }
      fetch("/api/suggest?q=" + encodeURIComponent(typed), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) {
          if (mine === asked && document.activeElement === box) show(data.suggestions || []);
        })
        .catch(function () { /* suggestions are a help, never in the way */ });
    }

    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DEBOUNCE_MS);
    });
    box.addEventListener("keydown", function (event) {
      var open = !list.hidden && items.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!open) {
          if (items.length) { list.hidden = false; box.setAttribute("aria-expanded", "true"); }
          return;
        }
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        var next = active + step;
        if (next >= items.length) next = -1;
        if (next < -1) next = items.length - 1;
        highlight(next);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();
        choose(items[active]);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    box.addEventListener("blur", close);
  }

  var box = document.getElementById("q");
  if (box && box.form && window.fetch) setUpSuggestions(box);
})();
