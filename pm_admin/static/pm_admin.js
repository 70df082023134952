// Behaviour the strict Content-Security-Policy keeps out of inline attributes:
// data-confirm="question" asks before a click or a form submit goes through;
// data-model-action="name" runs a list action on the selected rows;
// data-print prints the page (on a click; data-print-now on <body>: once loaded); javascript: links never navigate;
// data-percent sizes a progress bar; data-refresh="5" reloads the page after 5 seconds;
// data-within="household" on a look-up sends the household chosen in the form along with each
// search (and clears the choice when the household changes): a flat's people only.
// The forms' pickers speak the page's language (texts from #pm-picker-locale, rendered by the server),
// and only one date picker is open at a time.
(function () {
  var source = document.getElementById("pm-picker-locale");
  var $ = window.jQuery;
  if (!source || !$) {
    return;
  }
  var texts = JSON.parse(source.getAttribute("data-locale"));
  if ($.fn.select2) {
    $.extend($.fn.select2.defaults, {
      formatNoMatches: function () { return texts.noMatches; },
      formatSearching: function () { return texts.searching; },
      formatLoadMore: function () { return texts.loadMore; },
      formatInputTooShort: function () { return texts.inputTooShort; },
      formatAjaxError: function () { return texts.failed; }
    });
  }
  var calendar = {
    applyLabel: texts.apply, cancelLabel: texts.cancel, fromLabel: texts.from, toLabel: texts.to,
    daysOfWeek: texts.daysOfWeek, monthNames: texts.monthNames, firstDay: texts.firstDay
  };
  var open = null;  // the date picker showing, if any
  // Flask-Admin's form.js loads after the date picker and announces itself before it styles the fields.
  $(document).on("adminFormReady", function () {
    var original = $.fn.daterangepicker;
    if (!original || original.pmLocalised) {
      return;
    }
    $.fn.daterangepicker = function (options, callback) {
      var settings = $.extend({opens: "right", drops: "down"}, options, {locale: calendar});
      if (settings.separator) {  // a range: written as the language writes it (the server reads both)
        settings.separator = texts.separator;
      }
      return original.call(this, settings, callback)
        .on("show.daterangepicker", function (event, picker) { open = picker; })
        .on("hide.daterangepicker", function (event, picker) { if (open === picker) { open = null; } });
    };
    $.fn.daterangepicker.pmLocalised = true;
  });
  // The picker's own outside-click handling ignores focus moving to another field and is unbound
  // by any other picker closing: close the open one whenever something outside it is touched.
  function closeOpenPickerOutside(event) {
    if (open && !open.element[0].contains(event.target) && !open.container[0].contains(event.target)) {
      open.hide();
    }
  }
  document.addEventListener("mousedown", closeOpenPickerOutside, true);
  document.addEventListener("focusin", closeOpenPickerOutside, true);
})();
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-percent]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, parseInt(bar.getAttribute("data-percent"), 10) || 0)) + "%";
    });
    if (document.body.hasAttribute("data-print-now")) {
      window.print();
    }
    narrowLookups();
    var refresh = document.querySelector("[data-refresh]");
    if (refresh) {
      window.setTimeout(function () { window.location.reload(); },
                        1000 * Math.max(1, parseInt(refresh.getAttribute("data-refresh"), 10) || 5));
    }
  });
  function narrowLookups() {
    var narrowed = document.querySelectorAll("[data-within]");
    if (!narrowed.length || !window.jQuery) {
      return;
    }
    var within = {};
    narrowed.forEach(function (lookup) {
      var owner = lookup.getAttribute("data-within");
      within[lookup.getAttribute("data-url")] = owner;
      window.jQuery("#" + owner).on("change", function () {
        window.jQuery(lookup).select2("val", "");
      });
    });
    window.jQuery.ajaxPrefilter(function (options) {
      var owner = within[options.url];
      if (owner) {
        var chosen = document.getElementById(owner);
        options.data = (options.data ? options.data + "&" : "") + encodeURIComponent(owner) + "=" +
          encodeURIComponent(chosen ? chosen.value : "");
      }
    });
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest('a[href^="javascript:"]')) {
      event.preventDefault();
    }
  }, true);
  document.addEventListener("click", function (event) {
    var confirmed = event.target.closest("[data-confirm]");
    if (confirmed && confirmed.tagName !== "FORM" && !window.confirm(confirmed.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    var action = event.target.closest("[data-model-action]");
    if (action && window.modelActions) {
      event.preventDefault();
      window.modelActions.execute(action.getAttribute("data-model-action"));
    }
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
