/** Espressif's own USB vendor id: boards whose chip itself is the USB device (USB-Serial/JTAG, USB-OTG CDC). */
export const ESPRESSIF_USB_VID = 0x303a;

/** The USB-Serial/JTAG peripheral (C3, S3, C6, H2 and later): it has its own reset sequence (§7). */
export const ESPRESSIF_USB_JTAG = { vid: ESPRESSIF_USB_VID, pid: 0x1001 } as const;
