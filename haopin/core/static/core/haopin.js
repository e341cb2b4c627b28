// The platform's small JS kit. Everything works without it; with it, forms validate inline
// (htmx) and destructive buttons ask first.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const box = document.querySelector(".messages") || document.querySelector("main");
  if (box) {
    const p = document.createElement("p");
    p.className = "msg error";
    p.setAttribute("role", "alert");
    p.textContent = status === 403 ? "您没有执行此操作的权限。" : "操作未完成（" + status + "），请稍后重试。";
    box.prepend(p);
  }
});
