"""Message catalogs (``<locale>/LC_MESSAGES/messages.po``) and the script that updates them."""
