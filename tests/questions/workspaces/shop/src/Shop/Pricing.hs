{-# LANGUAGE TypeFamilies #-}

-- | Prices, taxes and discounts.
module Shop.Pricing
  ( Priced (..)
  , Taxable (..)
  , HasSku (..)
  , Rate
  , Rounded
  , PriceRule
  , priceFor
  , applyDiscount
  , taxFor
  , helperTable
  , bulkRules
  ) where

import Shop.Types

class Priced a where
  price :: a -> Money

class Priced a => Taxable a where
  taxRate :: a -> Double
  taxRate _ = 0.2

class HasSku a where
  skuOf :: a -> Sku

instance Priced Item where
  price = itemPrice

instance Taxable Item where
  taxRate item = case itemCategory item of
    Books -> 0
    _ -> 0.2

instance HasSku Item where
  skuOf = itemSku

-- | The unit a rate is quoted in; open.
type family Rate a
type instance Rate Item = Double
type instance Rate Order = Double

-- | Closed: what rounding a value yields.
type family Rounded a where
  Rounded Money = Money
  Rounded Double = Int

type PriceRule = Item -> Int -> Maybe Money

priceFor :: Item -> Int -> Money
priceFor item n = price item * n

applyDiscount :: Discount -> Money -> Money
applyDiscount (Percent p) m = m - m * p `div` 100
applyDiscount (Flat off) m = max 0 (m - off)

taxFor :: Taxable a => a -> Money -> Money
taxFor x m = round (fromIntegral m * taxRate x)

helperTable :: [(Category, Double)]
helperTable = [ (c, if c == Books then 0 else 0.2) | c <- [minBound .. maxBound] ]

bulkRules :: [PriceRule]
bulkRules = [\item n -> if n >= 10 then Just (priceFor item n * 9 `div` 10) else Nothing]
