// A running total of ticked rows, for a form marked data-selection:
// checkboxes with data-amount="123.45" (and data-key="2027-01" to tick "up to" a key);
// [data-selection-total] shows the sum; buttons data-select="all|none" and a
// select[data-select-upto] tick rows; input[data-selection-amount] follows the total.
(function () {
  function cents(text) {
    var parts = String(text).split(".");
    var whole = parseInt(parts[0], 10) || 0, fraction = ((parts[1] || "") + "00").slice(0, 2);
    return (whole < 0 || parts[0].charAt(0) === "-" ? -1 : 1) * (Math.abs(whole) * 100 + parseInt(fraction, 10));
  }
  function yuan(amount) {
    var sign = amount < 0 ? "-" : "", abs = Math.abs(amount);
    var whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + whole + "." + String(abs % 100 + 100).slice(1);
  }
  function update(form, follow) {
    var total = 0;
    form.querySelectorAll("input[type=checkbox][data-amount]").forEach(function (box) {
      if (box.checked) { total += cents(box.getAttribute("data-amount")); }
    });
    form.querySelectorAll("[data-selection-total]").forEach(function (out) { out.textContent = "¥" + yuan(total); });
    var amount = form.querySelector("[data-selection-amount]");
    if (amount && follow) { amount.value = yuan(total).replace(/,/g, ""); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-selection]").forEach(function (form) {
      var boxes = form.querySelectorAll("input[type=checkbox][data-amount]");
      form.addEventListener("change", function (event) {
        if (event.target.matches("select[data-select-upto]")) {
          var upto = event.target.value;
          if (!upto) { return; }
          boxes.forEach(function (box) { box.checked = box.getAttribute("data-key") <= upto; });
          update(form, true);
        } else if (event.target.matches("input[type=checkbox][data-amount]")) {
          update(form, true);
        }
      });
      form.addEventListener("click", function (event) {
        var button = event.target.closest("[data-select]");
        if (!button) { return; }
        boxes.forEach(function (box) { box.checked = button.getAttribute("data-select") === "all"; });
        update(form, true);
      });
      update(form, false);
    });
  });
})();
